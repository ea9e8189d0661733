"""The dashboard: figures computed from runs, messages, tickets, opportunities and events;
its price table and assumptions; and CSV/XLSX export of each report."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from cauce.api.deps import CauceDep, PrincipalDep, SessionDep
from cauce.api.errors import ERROR_RESPONSES
from cauce.api.pagination import IdQuery
from cauce.services import dashboard
from cauce.services.dashboard import DashboardOut, DashboardSettings, PriceTable
from cauce.services.dashboard_export import REPORTS, export

router = APIRouter(prefix="/dashboard", tags=["dashboard"], responses=ERROR_RESPONSES)

FromQuery = Annotated[datetime | None, Query(
    alias="from", description="Start of the range (ISO 8601, inclusive). Default: 30 days "
    "before `to`.")]
ToQuery = Annotated[datetime | None, Query(
    description="End of the range (ISO 8601, exclusive). Default: just after now, so "
    "what happened at this instant counts.")]
LangQuery = Annotated[Literal["es", "en"] | None, Query(
    description="Language of `reason`/`recommendation` in the errors table (both are always "
    "present as `*_es` and `*_en`). Default: the workspace's language.")]


def _window(session: SessionDep, principal: PrincipalDep, cauce: CauceDep,
            start: datetime | None, end: datetime | None,
            flow_id: int | None) -> dashboard.Window:
    return dashboard.window(session, principal.workspace_id, start, end, flow_id,
                            cauce.clock.now())


def _lang(session: SessionDep, principal: PrincipalDep, lang: str | None) -> str:
    if lang:
        return lang
    from cauce.store.models import Workspace

    ws = session.get(Workspace, principal.workspace_id)
    return "en" if ws is not None and ws.language == "en" else "es"


@router.get("", operation_id="get_dashboard")
def get_dashboard(
    session: SessionDep, principal: PrincipalDep, cauce: CauceDep,
    start: FromQuery = None, to: ToQuery = None, flow_id: IdQuery = None,
    lang: LangQuery = None,
) -> DashboardOut:
    """Every dashboard figure for the range (and one flow with `flow_id`): cards, conversion
    and funnel per flow, handling time, messages, delivery and read rates, cost, attributed
    revenue and frequent errors with a recommendation. docs/dashboard.md says how each is
    computed."""
    w = _window(session, principal, cauce, start, to, flow_id)
    return dashboard.compute(session, w, _lang(session, principal, lang))


@router.get(
    "/export", operation_id="export_dashboard_report",
    responses={200: {"content": {
        "text/csv": {}, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
    }, "description": "The report as a file download."}},
)
def export_dashboard_report(
    session: SessionDep, principal: PrincipalDep, cauce: CauceDep,
    report: Annotated[str, Query(
        max_length=40, description="One of: all (XLSX only), " + ", ".join(REPORTS) + ".",
        examples=["funnel"])],
    format: Literal["csv", "xlsx"] = "csv",
    start: FromQuery = None, to: ToQuery = None, flow_id: IdQuery = None,
    lang: LangQuery = None,
) -> Response:
    """One dashboard report (or all of them as sheets of one XLSX) as a file."""
    w = _window(session, principal, cauce, start, to, flow_id)
    data = dashboard.compute(session, w, _lang(session, principal, lang))
    content, media_type, filename = export(data, report, format)
    return Response(content, media_type=media_type, headers={
        "Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/prices", operation_id="get_dashboard_prices")
def get_dashboard_prices(session: SessionDep, principal: PrincipalDep) -> PriceTable:
    """The workspace's price per message, per channel, pricing category and country. Until
    edited, example prices (not Meta's rates) are returned."""
    return dashboard.get_prices(session, principal.workspace_id)


@router.put("/prices", operation_id="put_dashboard_prices")
def put_dashboard_prices(
    body: PriceTable, session: SessionDep, principal: PrincipalDep,
) -> PriceTable:
    """Replace the price table. A message's price is the row for its channel, category and
    the contact's country, else the row with no country, else the channel's `any` row."""
    principal.require("admin")
    return dashboard.put_prices(session, principal.workspace_id, body)


@router.get("/settings", operation_id="get_dashboard_settings")
def get_dashboard_settings(session: SessionDep, principal: PrincipalDep) -> DashboardSettings:
    """Minutes saved per automated message and per step (hours saved), and the revenue
    attribution window."""
    return dashboard.get_settings(session, principal.workspace_id)


@router.put("/settings", operation_id="put_dashboard_settings")
def put_dashboard_settings(
    body: DashboardSettings, session: SessionDep, principal: PrincipalDep,
) -> DashboardSettings:
    principal.require("admin")
    return dashboard.put_settings(session, principal.workspace_id, body)
