"""The workspace's contact rules: opt-out keywords, marketing consent and frequency caps, and
the business hours (with public holidays of the workspace's country) outside which
business-initiated messages wait. Stored in ``workspace.settings["contact_rules"]`` and read
by the channel rules (``cauce.channels.rules.RulesConfig``)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

import holidays
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from cauce.api.deps import CauceDep, PrincipalDep, SessionDep
from cauce.api.errors import ERROR_RESPONSES
from cauce.channels.rules import DEFAULT_RESUME_KEYWORDS, DEFAULT_STOP_KEYWORDS, RulesConfig
from cauce.engine.business_time import BusinessTimeError
from cauce.services.auth import audit
from cauce.services.errors import Invalid, NotFound
from cauce.store.models import Workspace

router = APIRouter(prefix="/workspace/contact-rules", tags=["workspace"],
                   responses=ERROR_RESPONSES)

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_DAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
UPCOMING_HOLIDAYS = 10


class BusinessHours(BaseModel):
    model_config = ConfigDict(extra="forbid")

    weekdays: list[Weekday] = Field(min_length=1, max_length=7, examples=[list(_DAYS[:5])])
    start: str = Field(pattern=r"^\d{2}:\d{2}$", examples=["09:00"])
    end: str = Field(pattern=r"^\d{2}:\d{2}$", examples=["20:00"])
    skip_holidays: bool = Field(default=False, description="Also wait out the public holidays "
                                "of the workspace's country.")


class ContactRulesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stop_keywords: list[str] = Field(default=list(DEFAULT_STOP_KEYWORDS), max_length=50)
    resume_keywords: list[str] = Field(default=list(DEFAULT_RESUME_KEYWORDS), max_length=50)
    marketing_per_day: int | None = Field(default=2, ge=0, le=1000,
                                          description="null: no daily cap")
    marketing_per_week: int | None = Field(default=5, ge=0, le=1000,
                                           description="null: no weekly cap")
    require_marketing_consent: bool = False
    communication_window: BusinessHours | None = Field(
        default=None, description="Business hours for business-initiated messages; null: any "
        "time.")


class Holiday(BaseModel):
    date: date
    name: str


class ContactRulesPublic(ContactRulesIn):
    timezone: str
    country: str
    upcoming_holidays: list[Holiday] = Field(
        description="The next public holidays of the workspace's country (at most 10).")


def _workspace(session: Session, workspace_id: int) -> Workspace:
    ws = session.get(Workspace, workspace_id)
    if ws is None:
        raise NotFound("workspace not found")
    return ws


def _upcoming(country: str, today: date) -> list[Holiday]:
    try:
        found = holidays.country_holidays(country.upper(), years=[today.year, today.year + 1])
    except (NotImplementedError, KeyError):
        return []
    days = sorted(d for d in found if today <= d <= today + timedelta(days=400))
    return [Holiday(date=d, name=str(found.get(d))) for d in days[:UPCOMING_HOLIDAYS]]


def _public(ws: Workspace, today: date) -> ContactRulesPublic:
    raw = (ws.settings or {}).get("contact_rules") or {}
    rules = ContactRulesIn.model_validate(
        {k: v for k, v in raw.items() if k in ContactRulesIn.model_fields})
    return ContactRulesPublic(**rules.model_dump(), timezone=ws.timezone, country=ws.country,
                              upcoming_holidays=_upcoming(ws.country, today))


@router.get("", operation_id="get_contact_rules")
def get_contact_rules(session: SessionDep, principal: PrincipalDep,
                      cauce: CauceDep) -> ContactRulesPublic:
    """The rules in force (defaults when never set) and the coming public holidays."""
    return _public(_workspace(session, principal.workspace_id), cauce.clock.now().date())


@router.put("", operation_id="put_contact_rules")
def put_contact_rules(body: ContactRulesIn, session: SessionDep, principal: PrincipalDep,
                      cauce: CauceDep) -> ContactRulesPublic:
    """Replace the rules. Checked exactly as the channels read them, so a rule that saves is
    a rule that works."""
    principal.require("admin")
    ws = _workspace(session, principal.workspace_id)
    window = body.communication_window
    if window and window.start >= window.end:
        raise Invalid("communication_window: start must be before end",
                      field="communication_window.end")
    stored = body.model_dump(mode="json")
    try:
        config = RulesConfig.from_settings(stored, timezone=ws.timezone, country=ws.country)
    except ValueError as exc:
        raise Invalid(str(exc), field=str(exc).split(":", 1)[0]) from None
    if config.communication_window is not None:
        try:
            config.communication_window.validate_for(ws.timezone, ws.country)
        except BusinessTimeError as exc:
            raise Invalid(f"communication_window: {exc}",
                          field="communication_window") from None
    ws.settings = {**(ws.settings or {}), "contact_rules": stored}
    audit(session, principal, cauce.clock.now(), "workspace.contact_rules_changed")
    session.flush()
    return _public(ws, cauce.clock.now().date())
