"""What starts a flow. Each trigger type knows which inputs it matches (pure) and which of
its filter combinations can never match (for validation).

Inputs the runtime builds for each trigger type:

- ``inbound_message``, ``ad_referral``: :class:`MessageIn` (a referral is on the first message
  after a click-to-WhatsApp ad).
- ``business_event``: :class:`EventIn` with the event's name (``cart.abandoned``…).
- ``opportunity_changed``: ``EventIn(name="opportunity.changed", data=...)`` with the keys of
  docs/crm.md (pipeline, stage, status, from_status, moved_to_status, owner, tags...).
- ``tag_changed``: ``EventIn(name="contact.tag_added" | "contact.tag_removed",
  data={"tag": ...})``.
- ``segment_entered``: ``EventIn(name="segment.entered", data={"segment": ...})``.
- ``schedule``, ``relative_date``, ``inactivity``, ``manual``: :class:`ManualStart` with
  ``source`` equal to the trigger type (``"api"`` for manual) and ``params.trigger_id`` when
  the flow has several triggers of that type.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from cauce.engine.types import ContactSnapshot, EventIn, ManualStart, MessageIn
from cauce.flows.common import Condition, Duration, Problem, Strict
from cauce.flows.templates import TemplateError, evaluate, regex_error
from cauce.limits import MAX_REGEX_SUBJECT

InputLike = Any  # one of the engine input models


def _fold(text: str) -> str:
    """Case- and accent-insensitive form: 'BAJA', 'Bája' and 'baja' compare equal."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip()


class _Trigger(Strict):
    id: str | None = None  # lets the runtime name one trigger when a flow has several

    def problems(self, index: int) -> list[Problem]:
        return []

    def _never(self, index: int, message: str, field: str) -> Problem:
        return Problem(severity="error", code="trigger_never_matches", message=message,
                       field=f"triggers.{index}.{field}")


class InboundMessageTrigger(_Trigger):
    """A message from the contact: any, a keyword (whole word), a phrase, or a regex."""

    type: Literal["inbound_message"]
    channel: Literal["any", "whatsapp", "sms", "email"] = "any"
    match: Literal["any", "keyword", "phrase", "regex"] = "any"
    keywords: list[str] = Field(default_factory=list)
    phrase: str = ""
    regex: str = ""
    first_message_only: bool = False  # only the first message of a conversation

    def matches(self, inp: InputLike, contact: ContactSnapshot) -> bool:
        if not isinstance(inp, MessageIn):
            return False
        if self.channel != "any" and inp.channel not in (self.channel, "simulator"):
            return False
        if self.first_message_only and not inp.first_in_conversation:
            return False
        text = _fold(inp.text)
        if self.match == "keyword":
            words = set(re.findall(r"\w+", text))
            return any(_fold(k) in words or _fold(k) == text for k in self.keywords)
        if self.match == "phrase":
            return bool(self.phrase) and _fold(self.phrase) in text
        if self.match == "regex":
            subject = inp.text[:MAX_REGEX_SUBJECT]
            return regex_error(self.regex) is None and re.search(self.regex, subject,
                                                                  re.IGNORECASE) is not None
        return True

    def problems(self, index: int) -> list[Problem]:
        if self.match == "keyword" and not [k for k in self.keywords if k.strip()]:
            return [self._never(index, "keyword trigger without keywords", "keywords")]
        if self.match == "phrase" and not self.phrase.strip():
            return [self._never(index, "phrase trigger with an empty phrase", "phrase")]
        if self.match == "regex" and (err := regex_error(self.regex)):
            return [self._never(index, err, "regex")]
        return []


class AdReferralTrigger(_Trigger):
    """The first message after a click-to-WhatsApp ad (optionally one ad id)."""

    type: Literal["ad_referral"]
    ad_id: str | None = None

    def matches(self, inp: InputLike, contact: ContactSnapshot) -> bool:
        if not isinstance(inp, MessageIn) or not inp.referral:
            return False
        return self.ad_id is None or str(inp.referral.get("source_id", "")) == self.ad_id


def _contradictions(condition: Condition | None) -> list[str]:
    """Fields an AND group requires to equal two different values at once."""
    if condition is None or condition.match != "all":
        return []
    wanted: dict[str, set[str]] = {}
    for rule in condition.rules:
        if not isinstance(rule, Condition) and rule.operator == "eq":
            wanted.setdefault(rule.field, set()).add(_fold(str(rule.value)))
    return [f for f, values in wanted.items() if len(values) > 1]


class BusinessEventTrigger(_Trigger):
    """A named event from the events API, with filters over its data (``event.*``)."""

    type: Literal["business_event"]
    event: str = Field(min_length=1)
    filters: Condition | None = None

    def matches(self, inp: InputLike, contact: ContactSnapshot) -> bool:
        if not isinstance(inp, EventIn) or inp.name != self.event:
            return False
        if self.filters is None:
            return True
        data = {"event": inp.data, "contact": contact.model_dump(mode="json")}
        try:
            return evaluate(self.filters, data)
        except TemplateError:
            return False

    def problems(self, index: int) -> list[Problem]:
        return [self._never(index, f"filters require '{f}' to equal two different values",
                            "filters") for f in _contradictions(self.filters)]


class OpportunityChangedTrigger(_Trigger):
    """An opportunity changed (the ``opportunity.changed`` keys of docs/crm.md).

    ``moved_to`` matches a change that moved the status to that value (``moved_to_status``);
    ``moved_from`` the status it left (``from_status``). ``status`` is the status the
    opportunity had when it changed: for a status move, the one before the move (so the seed's
    "moved to Abandoned, status Open" means "was open when it was abandoned"); otherwise the
    current one. ``stage`` is the current stage, ``assigned_to`` the owner's email."""

    type: Literal["opportunity_changed"]
    pipeline: str | None = None
    stage: str | None = None
    moved_from: str | None = None
    moved_to: str | None = None
    status: str | None = None
    tag: str | None = None
    assigned_to: str | None = None

    def matches(self, inp: InputLike, contact: ContactSnapshot) -> bool:
        if not isinstance(inp, EventIn) or inp.name != "opportunity.changed":
            return False
        d = inp.data
        moved_to = d.get("moved_to_status")
        status_then = d.get("from_status") if moved_to else d.get("status")

        def same(expected: str | None, actual: Any) -> bool:
            return expected is None or (actual is not None
                                        and _fold(expected) == _fold(str(actual)))

        if self.moved_from is not None and not moved_to:
            return False
        if not (same(self.pipeline, d.get("pipeline")) and same(self.stage, d.get("stage"))
                and same(self.moved_to, moved_to)
                and same(self.moved_from, d.get("from_status"))
                and same(self.status, status_then)
                and same(self.assigned_to, d.get("owner"))):
            return False
        if self.tag is not None:
            tags = d.get("tags") or []
            return _fold(self.tag) in {_fold(str(t)) for t in tags}
        return True

    def problems(self, index: int) -> list[Problem]:
        out = []
        moved_from = self.moved_from or self.status if self.moved_to else None
        if self.moved_from and self.status and _fold(self.moved_from) != _fold(self.status):
            out.append(self._never(index, f"moved_from '{self.moved_from}' and status "
                                   f"'{self.status}' name different earlier statuses", "status"))
        elif moved_from and self.moved_to and _fold(moved_from) == _fold(self.moved_to):
            out.append(self._never(index, f"a status cannot move from '{moved_from}' to itself",
                                   "moved_to"))
        return out


class TagChangedTrigger(_Trigger):
    type: Literal["tag_changed"]
    tag: str = Field(min_length=1)
    action: Literal["added", "removed"] = "added"

    def matches(self, inp: InputLike, contact: ContactSnapshot) -> bool:
        return (isinstance(inp, EventIn) and inp.name == f"contact.tag_{self.action}"
                and _fold(str(inp.data.get("tag", ""))) == _fold(self.tag))


class SegmentEnteredTrigger(_Trigger):
    type: Literal["segment_entered"]
    segment: str = Field(min_length=1)

    def matches(self, inp: InputLike, contact: ContactSnapshot) -> bool:
        return (isinstance(inp, EventIn) and inp.name == "segment.entered"
                and str(inp.data.get("segment", "")) == self.segment)


def _started_as(inp: InputLike, source: str, trigger_id: str | None) -> bool:
    if not isinstance(inp, ManualStart) or inp.source != source:
        return False
    wanted = inp.params.get("trigger_id")
    return wanted is None or wanted == trigger_id


class ScheduleTrigger(_Trigger):
    """Once (``at``) or on a cron schedule, for every contact of ``segment`` (or the runtime's
    chosen audience). The runtime's scheduler fires it as ``ManualStart(source="schedule")``."""

    type: Literal["schedule"]
    cron: str | None = None
    at: datetime | None = None
    segment: str | None = None

    def matches(self, inp: InputLike, contact: ContactSnapshot) -> bool:
        return _started_as(inp, "schedule", self.id)

    def problems(self, index: int) -> list[Problem]:
        if (self.cron is None) == (self.at is None):
            return [self._never(index, "set exactly one of cron and at", "cron")]
        if self.cron is not None:
            from croniter import croniter

            if not croniter.is_valid(self.cron):
                return [self._never(index, f"'{self.cron}' is not a cron expression", "cron")]
        return []


class RelativeDateTrigger(_Trigger):
    """N minutes/hours/days before or after a contact field or an event's date (e.g. 2 days
    after ``order.delivered``), optionally snapped to an hour of the day."""

    type: Literal["relative_date"]
    field: str = Field(min_length=1)  # contact.fields.birthday, event:order.delivered...
    offset: Duration = Duration()
    direction: Literal["before", "after"] = "after"
    snap_to_hour: int | None = Field(default=None, ge=0, le=23)

    def matches(self, inp: InputLike, contact: ContactSnapshot) -> bool:
        return _started_as(inp, "relative_date", self.id)


class InactivityTrigger(_Trigger):
    """No inbound message from the contact for ``days`` days."""

    type: Literal["inactivity"]
    days: int = Field(ge=1, le=3650)

    def matches(self, inp: InputLike, contact: ContactSnapshot) -> bool:
        return _started_as(inp, "inactivity", self.id)


class ManualTrigger(_Trigger):
    """Started from the API, the web app or another flow."""

    type: Literal["manual"]

    def matches(self, inp: InputLike, contact: ContactSnapshot) -> bool:
        return isinstance(inp, ManualStart) and inp.source not in (
            "schedule", "relative_date", "inactivity")


Trigger = Annotated[
    InboundMessageTrigger | AdReferralTrigger | BusinessEventTrigger | OpportunityChangedTrigger
    | TagChangedTrigger | SegmentEnteredTrigger | ScheduleTrigger | RelativeDateTrigger
    | InactivityTrigger | ManualTrigger,
    Field(discriminator="type"),
]

TRIGGER_TYPES = ("inbound_message", "ad_referral", "business_event", "opportunity_changed",
                 "tag_changed", "segment_entered", "schedule", "relative_date", "inactivity",
                 "manual")
