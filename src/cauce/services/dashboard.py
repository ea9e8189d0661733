"""The dashboard: every figure computed from stored data (runs and their step log, messages
with their statuses and pricing, tickets, opportunities, business events). docs/dashboard.md
says how each one is computed; this module is that description in code.

Two windows are used, both ``[from, to)``:

* **run figures** (conversion, funnel, hours saved, NPS/CSAT, runs per flow) count the runs
  that *started* in the range, with everything those runs did afterwards;
* **event figures** (messages, delivery, cost, errors, handling time, revenue) count what
  *happened* in the range (a message created, a ticket opened, an opportunity won).

A figure that cannot be computed (no run has a goal, nobody answered an NPS question) is
``null`` with a note saying why, never a made-up number.
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cauce.services.dashboard_errors import advice
from cauce.services.errors import Invalid, NotFound
from cauce.services.flows import declares_goal
from cauce.store.models import (
    Contact,
    Flow,
    FlowVersion,
    Message,
    Opportunity,
    OutboxItem,
    RuntimeInput,
    RuntimeRun,
    StepLogEntry,
    Ticket,
    Workspace,
)

DEFAULT_RANGE_DAYS = 30
DEFAULT_END_AFTER_NOW = timedelta(microseconds=1)
MAX_RANGE_DAYS = 366
_SETTINGS_KEY = "dashboard"

# ---------------------------------------------------------------------------------------------
# Settings: the price table and the assumptions behind "hours saved" and attribution
# ---------------------------------------------------------------------------------------------

PriceChannel = Literal["whatsapp", "sms", "email"]
PriceCategory = Literal["marketing", "utility", "authentication", "service", "any"]


class PriceRow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: PriceChannel = Field(examples=["whatsapp"])
    category: PriceCategory = Field(
        examples=["marketing"], description="WhatsApp pricing category; `any` for SMS and "
        "e-mail, or as a WhatsApp fallback.")
    country: str | None = Field(
        default=None, pattern=r"^[A-Z]{2}$", examples=["AR"],
        description="The contact's country (ISO 3166-1 alpha-2); null: every country.")
    price: float = Field(ge=0, le=1000, examples=[0.05], description="Per message.")


class PriceTable(BaseModel):
    """What one message costs, per channel, pricing category and (optionally) country."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"currency": "USD", "prices": [
            {"channel": "whatsapp", "category": "marketing", "country": None, "price": 0.05},
            {"channel": "whatsapp", "category": "utility", "country": None, "price": 0.01},
        ]}]},
    )

    currency: str = Field(pattern=r"^[A-Z]{3}$", examples=["USD"])
    prices: list[PriceRow] = Field(max_length=500)


# Example prices so the cost chart shows something before anyone edits the table. They are
# NOT Meta's rates (those change by country and over time): edit them to your own contract.
DEFAULT_PRICES = PriceTable(currency="USD", prices=[
    PriceRow(channel="whatsapp", category="marketing", price=0.05),
    PriceRow(channel="whatsapp", category="utility", price=0.01),
    PriceRow(channel="whatsapp", category="authentication", price=0.01),
    PriceRow(channel="whatsapp", category="service", price=0.0),
    PriceRow(channel="sms", category="any", price=0.05),
    PriceRow(channel="email", category="any", price=0.0),
])


class DashboardSettings(BaseModel):
    """The assumptions behind estimated figures, per workspace."""

    model_config = ConfigDict(extra="forbid")

    minutes_per_message: float = Field(
        default=2.0, ge=0, le=600,
        description="Minutes of a person's work each message a flow sends saves (writing it).")
    minutes_per_step: float = Field(
        default=0.5, ge=0, le=600,
        description="Minutes each step a run goes through saves (looking up, deciding, "
        "updating the CRM by hand).")
    attribution_window_days: int = Field(
        default=30, ge=1, le=365,
        description="Revenue is attributed to the contact's last run that started at most "
        "this many days before the sale.")


def _stored(session: Session, workspace_id: int) -> tuple[Workspace, dict[str, Any]]:
    ws = session.get(Workspace, workspace_id)
    if ws is None:
        raise NotFound(f"workspace {workspace_id} not found")
    settings = ws.settings if isinstance(ws.settings, dict) else {}
    stored = settings.get(_SETTINGS_KEY)
    return ws, dict(stored) if isinstance(stored, dict) else {}


def get_prices(session: Session, workspace_id: int) -> PriceTable:
    _, stored = _stored(session, workspace_id)
    raw = stored.get("prices")
    return PriceTable.model_validate(raw) if isinstance(raw, dict) else DEFAULT_PRICES


def put_prices(session: Session, workspace_id: int, table: PriceTable) -> PriceTable:
    seen: set[tuple[str, str, str | None]] = set()
    for i, row in enumerate(table.prices):
        key = (row.channel, row.category, row.country)
        if key in seen:
            raise Invalid(f"prices[{i}]: {row.channel}/{row.category}/{row.country or 'any'} "
                          "appears twice", field=f"prices.{i}")
        seen.add(key)
    _save(session, workspace_id, "prices", table.model_dump(mode="json"))
    return table


def get_settings(session: Session, workspace_id: int) -> DashboardSettings:
    _, stored = _stored(session, workspace_id)
    raw = stored.get("settings")
    return DashboardSettings.model_validate(raw) if isinstance(raw, dict) else DashboardSettings()


def put_settings(session: Session, workspace_id: int, data: DashboardSettings) -> DashboardSettings:
    _save(session, workspace_id, "settings", data.model_dump(mode="json"))
    return data


def _save(session: Session, workspace_id: int, key: str, value: Any) -> None:
    ws, stored = _stored(session, workspace_id)
    stored[key] = value
    # A new dict: the JSON column only notices a replaced value, not an in-place change.
    ws.settings = {**(ws.settings or {}), _SETTINGS_KEY: stored}


# ---------------------------------------------------------------------------------------------
# The answer
# ---------------------------------------------------------------------------------------------


class RangeOut(BaseModel):
    from_: datetime = Field(alias="from")
    to: datetime
    days: float
    flow_id: int | None

    model_config = ConfigDict(populate_by_name=True)


class CardsOut(BaseModel):
    conversion_rate: float | None = Field(description="conversions / runs_with_goal (0–1).")
    conversions: int
    runs_started: int
    runs_with_goal: int
    conversion_note: str | None
    hours_saved_month: float
    automated_messages: int
    automated_steps: int
    nps: float | None = Field(description="% promoters − % detractors (−100…100).")
    nps_responses: int
    nps_note: str | None
    csat: float | None = Field(description="% of 4–5 answers on a 1–5 scale (0–100).")
    csat_average: float | None
    csat_responses: int
    csat_note: str | None


class FlowConversionOut(BaseModel):
    flow_id: int
    flow_name: str
    has_goal: bool
    runs_started: int
    conversions: int
    conversion_rate: float | None


class FunnelNodeOut(BaseModel):
    node_id: str
    label: str
    type: str
    entered: int = Field(description="Runs (started in the range) that entered this node.")
    rate: float | None = Field(description="entered / runs of the flow.")


class FunnelOut(BaseModel):
    flow_id: int
    flow_name: str
    runs: int
    nodes: list[FunnelNodeOut]


class HandlingPointOut(BaseModel):
    date: str
    opened: int
    avg_first_response_s: float | None
    avg_resolution_s: float | None


class HandlingOut(BaseModel):
    sources: list[str]
    opened: int
    responded: int
    resolved: int
    avg_first_response_s: float | None
    avg_resolution_s: float | None
    series: list[HandlingPointOut]


class MessagesRowOut(BaseModel):
    flow_id: int | None = Field(description="null: sent outside any flow (inbox, API).")
    flow_name: str | None
    channel: str
    count: int


class DeliveryRowOut(BaseModel):
    channel: str
    total: int
    sent: int
    delivered: int
    read: int
    failed: int
    delivery_rate: float | None
    read_rate: float | None


class DeliveryOut(DeliveryRowOut):
    by_channel: list[DeliveryRowOut]


class CostFlowOut(BaseModel):
    flow_id: int | None
    flow_name: str | None
    messages: int
    cost: float
    runs: int
    per_run: float | None


class CostCategoryOut(BaseModel):
    channel: str
    category: str
    messages: int
    billable: int
    cost: float


class CostOut(BaseModel):
    currency: str
    total: float
    conversations: int
    per_conversation: float | None
    unpriced_messages: int = Field(description="Billable messages no price row matched.")
    per_flow: list[CostFlowOut]
    by_category: list[CostCategoryOut]


class RevenueOut(BaseModel):
    flow_id: int | None = Field(description="null: revenue no flow run preceded.")
    flow_name: str | None
    currency: str
    amount: float
    opportunities: int
    events: int


class ErrorOut(BaseModel):
    code: str
    source: str = Field(description="message (a failed message) or the dead letter's kind.")
    count: int
    known: bool
    reason: str
    recommendation: str
    reason_es: str
    reason_en: str
    recommendation_es: str
    recommendation_en: str
    example: str | None = Field(description="One stored reason, as the provider said it.")


class DashboardOut(BaseModel):
    range: RangeOut
    cards: CardsOut
    conversion: list[FlowConversionOut]
    funnel: list[FunnelOut]
    handling_time: HandlingOut
    messages: list[MessagesRowOut]
    delivery: DeliveryOut
    cost: CostOut
    revenue: list[RevenueOut]
    errors: list[ErrorOut]


# ---------------------------------------------------------------------------------------------
# The range
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    workspace_id: int
    start: datetime
    end: datetime
    flow_id: int | None

    @property
    def days(self) -> float:
        return (self.end - self.start).total_seconds() / 86400


def window(
    session: Session, workspace_id: int, start: datetime | None, end: datetime | None,
    flow_id: int | None, now: datetime,
) -> Window:
    # The default range ends just after now: what happened at this very instant counts. On a
    # virtual clock (the simulator) time stands still between jumps, so a run started a
    # moment ago carries exactly ``now`` and an end of ``now`` (exclusive) would hide it.
    end = _utc(end, "to") if end is not None else now + DEFAULT_END_AFTER_NOW
    if start is not None:
        start = _utc(start, "from")
    else:
        try:
            start = end - timedelta(days=DEFAULT_RANGE_DAYS)
        except OverflowError:
            raise Invalid("to: out of range", field="to") from None
    if start >= end:
        raise Invalid("from: must be before to", field="from")
    if end - start > timedelta(days=MAX_RANGE_DAYS):
        raise Invalid(f"from: the range may span at most {MAX_RANGE_DAYS} days", field="from")
    if flow_id is not None:
        flow = session.get(Flow, flow_id)
        if flow is None or flow.workspace_id != workspace_id:
            raise NotFound(f"flow {flow_id} not found")
    return Window(workspace_id, start, end, flow_id)


def _utc(value: datetime, field: str) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise Invalid(f"{field}: out of range", field=field) from None


# ---------------------------------------------------------------------------------------------
# Computing
# ---------------------------------------------------------------------------------------------


@dataclass
class _RunFacts:
    runs: dict[int, int]  # flow -> runs started
    goal_runs: dict[int, int]  # flow -> runs of a version with a goal
    conversions: dict[int, int]
    nps: list[float]
    csat: list[float]


def compute(session: Session, w: Window, lang: str = "es") -> DashboardOut:
    """Every figure of the dashboard for the range and (optional) flow."""
    prefs = get_settings(session, w.workspace_id)
    facts = _run_facts(session, w)
    funnels, automated_steps = _funnels(session, w, facts.runs)
    msg_groups = _message_groups(session, w)
    names = _flow_names(session, w.workspace_id, set(facts.runs) | {
        g.flow_id for g in msg_groups if g.flow_id is not None})
    for f in funnels:
        f.flow_name = names.get(f.flow_id, "")
    automated_messages = sum(g.count for g in msg_groups
                             if g.flow_id is not None and g.status != "failed")
    minutes = (automated_messages * prefs.minutes_per_message
               + automated_steps * prefs.minutes_per_step)
    hours_saved_month = round(minutes / 60 * 30 / w.days, 2)
    conversions = sum(facts.conversions.values())
    with_goal = sum(facts.goal_runs.values())
    cards = CardsOut(
        conversion_rate=_ratio(conversions, with_goal),
        conversions=conversions, runs_started=sum(facts.runs.values()),
        runs_with_goal=with_goal,
        conversion_note=None if with_goal else (
            "no run started in this range belongs to a flow version with a goal"),
        hours_saved_month=hours_saved_month, automated_messages=automated_messages,
        automated_steps=automated_steps,
        nps=_nps(facts.nps), nps_responses=len(facts.nps),
        nps_note=None if facts.nps else (
            "no run started in this range saved a result named nps (an answer from 0 to 10)"),
        csat=_csat(facts.csat), csat_average=(
            round(sum(facts.csat) / len(facts.csat), 2) if facts.csat else None),
        csat_responses=len(facts.csat),
        csat_note=None if facts.csat else (
            "no run started in this range saved a result named csat (an answer from 1 to 5)"),
    )
    conversion = [
        FlowConversionOut(
            flow_id=fid, flow_name=names.get(fid, ""), has_goal=facts.goal_runs.get(fid, 0) > 0,
            runs_started=n, conversions=facts.conversions.get(fid, 0),
            conversion_rate=_ratio(facts.conversions.get(fid, 0), facts.goal_runs.get(fid, 0)),
        ) for fid, n in sorted(facts.runs.items())
    ]
    return DashboardOut(
        range=RangeOut(from_=w.start, to=w.end, days=round(w.days, 3), flow_id=w.flow_id),
        cards=cards, conversion=conversion, funnel=funnels,
        handling_time=handling_time(session, w),
        messages=_messages(msg_groups, names), delivery=_delivery(msg_groups),
        cost=_cost(session, w, msg_groups, names, facts.runs),
        revenue=_revenue(session, w, prefs, names), errors=_errors(session, w, msg_groups, lang),
    )


def _ratio(num: float, den: float, digits: int = 4) -> float | None:
    return round(num / den, digits) if den else None


def _runs_in_range(w: Window) -> Any:
    stmt = select(RuntimeRun.id).where(
        RuntimeRun.workspace_id == w.workspace_id, RuntimeRun.started_at >= w.start,
        RuntimeRun.started_at < w.end)
    if w.flow_id is not None:
        stmt = stmt.where(RuntimeRun.flow_id == w.flow_id)
    return stmt


def _flow_names(session: Session, workspace_id: int, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return {fid: name for fid, name in session.execute(
        select(Flow.id, Flow.name).where(Flow.workspace_id == workspace_id,
                                         Flow.id.in_(sorted(ids))))}


# -- runs: conversion, NPS/CSAT ----------------------------------------------------------------


def _run_facts(session: Session, w: Window) -> _RunFacts:
    goal_reached = RuntimeRun.state["goal_reached"].as_boolean()
    results = RuntimeRun.state["results"]
    stmt = select(RuntimeRun.flow_id, RuntimeRun.flow_version, goal_reached, results).where(
        RuntimeRun.id.in_(_runs_in_range(w)))
    facts = _RunFacts(defaultdict(int), defaultdict(int), defaultdict(int), [], [])
    goals: dict[tuple[int, int], bool] = {}
    for flow_id, version, reached, saved in session.execute(
            stmt.execution_options(yield_per=1000)):
        facts.runs[flow_id] += 1
        if (flow_id, version) not in goals:
            goals[(flow_id, version)] = _has_goal(session, flow_id, version)
        if goals[(flow_id, version)]:
            facts.goal_runs[flow_id] += 1
            if reached:
                facts.conversions[flow_id] += 1
        if isinstance(saved, dict) and saved:
            nps, csat = survey_answers(saved)
            if nps is not None:
                facts.nps.append(nps)
            if csat is not None:
                facts.csat.append(csat)
    return facts


def _has_goal(session: Session, flow_id: int, version: int) -> bool:
    document = session.scalar(select(FlowVersion.document).where(
        FlowVersion.flow_id == flow_id, FlowVersion.number == version))
    return declares_goal(document)


_NUMBER = re.compile(r"(?<![\d.])(\d{1,2})(?:[.,]\d+)?(?![\d])")


def survey_answers(results: dict[str, Any]) -> tuple[float | None, float | None]:
    """A run's NPS (0–10) and CSAT (1–5) answers from its saved results.

    A result counts when its name (a node id or a ``save_as`` name) is ``nps``/``csat`` or
    starts with it (``nps_score``, ``csat_soporte``); the value may be a number, a numeric
    text ("9", "un 8"), or a saved reply ``{"text", "button_id"}`` (a button id like
    ``nps_9`` or ``5`` counts). Out-of-scale answers are ignored."""
    nps = csat = None
    for name in sorted(results):
        low = name.lower()
        if nps is None and low.startswith("nps"):
            nps = _score(results[name], 0, 10)
        elif csat is None and low.startswith("csat"):
            csat = _score(results[name], 1, 5)
    return nps, csat


def _score(value: Any, low: int, high: int) -> float | None:
    candidates: list[Any] = []
    if isinstance(value, dict):
        candidates = [value.get(k) for k in ("score", "value", "button_id", "text")]
    else:
        candidates = [value]
    for item in candidates:
        number: float | None = None
        if isinstance(item, bool) or item is None:
            continue
        if isinstance(item, int | float):
            number = float(item)
        elif isinstance(item, str):
            found = _NUMBER.findall(item)
            if len(found) == 1:
                number = float(found[0])
        if number is not None and low <= number <= high and number == int(number):
            return number
    return None


def _nps(scores: list[float]) -> float | None:
    if not scores:
        return None
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    return round(100 * (promoters - detractors) / len(scores), 1)


def _csat(scores: list[float]) -> float | None:
    if not scores:
        return None
    return round(100 * sum(1 for s in scores if s >= 4) / len(scores), 1)


# -- the funnel --------------------------------------------------------------------------------


def _funnels(
    session: Session, w: Window, runs: dict[int, int]
) -> tuple[list[FunnelOut], int]:
    """Runs that entered each node, from the step log (``step_entered`` events), per flow;
    nodes in the order of the flow's published document. Also the total steps taken."""
    entered: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    types: dict[str, str] = {}
    seen: set[tuple[str, str]] = set()
    steps = 0
    stmt = (select(RuntimeRun.flow_id, StepLogEntry.run_id, StepLogEntry.output)
            .join(RuntimeRun, RuntimeRun.id == StepLogEntry.run_id)
            .where(StepLogEntry.workspace_id == w.workspace_id,
                   RuntimeRun.id.in_(_runs_in_range(w))))
    for flow_id, run_id, output in session.execute(stmt.execution_options(yield_per=1000)):
        for event in output or []:
            if not isinstance(event, dict) or event.get("type") != "step_entered":
                continue
            steps += 1
            node = str(event.get("node_id"))
            types.setdefault(node, str(event.get("node_type") or ""))
            if (run_id, node) not in seen:
                seen.add((run_id, node))
                entered[flow_id][node] += 1
    out = []
    for flow_id in sorted(runs):
        counts = entered.get(flow_id, {})
        nodes = _document_nodes(session, flow_id)
        known = {n["id"] for n in nodes}
        rows = [FunnelNodeOut(node_id=n["id"], label=n["label"], type=n["type"],
                              entered=counts.get(n["id"], 0),
                              rate=_ratio(counts.get(n["id"], 0), runs[flow_id]))
                for n in nodes]
        # Nodes of older versions that the current document no longer has.
        rows += [FunnelNodeOut(node_id=node, label=node, type=types.get(node, ""), entered=n,
                               rate=_ratio(n, runs[flow_id]))
                 for node, n in sorted(counts.items()) if node not in known]
        out.append(FunnelOut(flow_id=flow_id, flow_name="", runs=runs[flow_id], nodes=rows))
    return out, steps


def _document_nodes(session: Session, flow_id: int) -> list[dict[str, str]]:
    flow = session.get(Flow, flow_id)
    document: Any = None
    if flow is not None and flow.published_version is not None:
        document = session.scalar(select(FlowVersion.document).where(
            FlowVersion.flow_id == flow_id, FlowVersion.number == flow.published_version))
    if document is None and flow is not None:
        document = flow.draft
    nodes = document.get("nodes") if isinstance(document, dict) else None
    out = []
    for node in nodes if isinstance(nodes, list) else []:
        if isinstance(node, dict) and node.get("id"):
            out.append({"id": str(node["id"]), "label": str(node.get("name") or node["id"]),
                        "type": str(node.get("type") or "")})
    return out


# -- handling time -----------------------------------------------------------------------------


@dataclass(frozen=True)
class HandlingSample:
    """One human-handled case: when it opened, first got an answer, and was resolved."""

    opened_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None


HandlingSource = Callable[[Session, Window], Iterable[HandlingSample]]


def ticket_samples(session: Session, w: Window) -> Iterator[HandlingSample]:
    """Tickets opened in the range. First response: the first ``out`` transcript entry at or
    after the ticket opened (entries copied from the bot conversation are older); resolution:
    ``closed_at`` (set when the ticket became solved or closed). With a flow filter, tickets
    whose context names that flow (tickets opened by a flow step carry it)."""
    stmt = select(Ticket.created_at, Ticket.closed_at, Ticket.transcript, Ticket.context).where(
        Ticket.workspace_id == w.workspace_id, Ticket.created_at >= w.start,
        Ticket.created_at < w.end)
    for created, closed, transcript, context in session.execute(
            stmt.execution_options(yield_per=1000)):
        if w.flow_id is not None and not (
                isinstance(context, dict) and context.get("flow_id") == w.flow_id):
            continue
        first = None
        for entry in transcript or []:
            at = _parse_time(entry.get("at")) if isinstance(entry, dict) else None
            if entry.get("direction") == "out" and at is not None and at >= created:
                first = at if first is None or at < first else first
        yield HandlingSample(created, first, closed)


# Where handling samples come from. Conversations of the agent inbox add their own source
# (first_response_at / closed_at) here; every figure below is computed over all sources.
HANDLING_SOURCES: dict[str, HandlingSource] = {"tickets": ticket_samples}


def handling_time(session: Session, w: Window) -> HandlingOut:
    by_day: dict[str, list[HandlingSample]] = defaultdict(list)
    samples: list[HandlingSample] = []
    for source in HANDLING_SOURCES.values():
        for sample in source(session, w):
            samples.append(sample)
            by_day[sample.opened_at.astimezone(UTC).date().isoformat()].append(sample)

    def averages(items: list[HandlingSample]) -> tuple[float | None, float | None, int, int]:
        first = [(s.first_response_at - s.opened_at).total_seconds() for s in items
                 if s.first_response_at is not None]
        done = [(s.resolved_at - s.opened_at).total_seconds() for s in items
                if s.resolved_at is not None]
        return (round(sum(first) / len(first), 1) if first else None,
                round(sum(done) / len(done), 1) if done else None, len(first), len(done))

    avg_first, avg_done, responded, resolved = averages(samples)
    series = []
    for day in sorted(by_day):
        f, d, _, _ = averages(by_day[day])
        series.append(HandlingPointOut(date=day, opened=len(by_day[day]),
                                       avg_first_response_s=f, avg_resolution_s=d))
    return HandlingOut(sources=sorted(HANDLING_SOURCES), opened=len(samples),
                       responded=responded, resolved=resolved, avg_first_response_s=avg_first,
                       avg_resolution_s=avg_done, series=series)


def _parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# -- messages: volume, delivery, cost, errors --------------------------------------------------


@dataclass(frozen=True)
class _MsgGroup:
    flow_id: int | None
    channel: str
    status: str
    category: str
    pricing_category: str | None
    pricing_type: str | None
    billable: bool | None
    free_entry_point: bool
    country: str | None
    error_code: str | None
    count: int
    delivered: int
    read: int
    example: str | None


def _message_groups(session: Session, w: Window) -> list[_MsgGroup]:
    """Outbound messages created in the range, grouped by everything the figures need."""
    m, r, c = Message, RuntimeRun, Contact
    keys = (r.flow_id, m.channel_kind, m.status, m.category, m.pricing_category,
            m.pricing_type, m.billable, m.free_entry_point, c.country, m.error_code)
    stmt = (select(*keys, func.count(), func.count(m.delivered_at), func.count(m.read_at),
                   func.max(m.error_reason))
            .select_from(m).outerjoin(r, r.id == m.run_id).outerjoin(c, c.id == m.contact_id)
            .where(m.workspace_id == w.workspace_id, m.direction == "out",
                   m.created_at >= w.start, m.created_at < w.end)
            .group_by(*keys))
    if w.flow_id is not None:
        stmt = stmt.where(r.flow_id == w.flow_id)
    out = []
    for (flow_id, channel, status, category, p_cat, p_type, billable, fep, country, code,
         count, delivered, read, example) in session.execute(stmt):
        out.append(_MsgGroup(
            flow_id, channel, status, category or "service", p_cat, p_type, billable,
            bool(fep), country, code, int(count),
            int(count) if status in ("delivered", "read") else int(delivered),
            int(count) if status == "read" else int(read), example))
    return out


def _messages(groups: list[_MsgGroup], names: dict[int, str]) -> list[MessagesRowOut]:
    counts: dict[tuple[int | None, str], int] = defaultdict(int)
    for g in groups:
        counts[(g.flow_id, g.channel)] += g.count
    return [MessagesRowOut(flow_id=f, flow_name=names.get(f) if f is not None else None,
                           channel=ch, count=n)
            for (f, ch), n in sorted(counts.items(), key=lambda kv: (kv[0][0] is None,
                                                                      kv[0][0] or 0, kv[0][1]))]


def _delivery_row(channel: str, groups: list[_MsgGroup]) -> DeliveryRowOut:
    total = sum(g.count for g in groups)
    failed = sum(g.count for g in groups if g.status == "failed")
    sent = sum(g.count for g in groups if g.status in ("sent", "delivered", "read"))
    delivered = sum(g.delivered for g in groups if g.status != "failed")
    read = sum(g.read for g in groups if g.status != "failed")
    return DeliveryRowOut(channel=channel, total=total, sent=sent, delivered=delivered,
                          read=read, failed=failed, delivery_rate=_ratio(delivered, sent + failed),
                          read_rate=_ratio(read, delivered))


def _delivery(groups: list[_MsgGroup]) -> DeliveryOut:
    by_channel: dict[str, list[_MsgGroup]] = defaultdict(list)
    for g in groups:
        by_channel[g.channel].append(g)
    total = _delivery_row("all", groups)
    return DeliveryOut(**total.model_dump(), by_channel=[
        _delivery_row(ch, items) for ch, items in sorted(by_channel.items())])


_PRICE_CHANNEL = {"whatsapp": "whatsapp", "simulator": "whatsapp", "sms_twilio": "sms",
                  "sms_http": "sms", "sms": "sms", "email": "email"}
_FREE_TYPES = ("free_customer_service", "free_entry_point")


def _price_of(
    table: dict[tuple[str, str, str | None], float], g: _MsgGroup
) -> tuple[str, str, float | None]:
    """(price channel, category, price per message); price None when no row matches; 0.0
    for messages nobody pays for (failed, free service window, free entry point)."""
    channel = _PRICE_CHANNEL.get(g.channel, "")
    category = (g.pricing_category or g.category or "service") if channel == "whatsapp" \
        else "any"
    if not channel:
        return g.channel, category, 0.0
    if (g.status == "failed" or g.billable is False or g.free_entry_point
            or (g.pricing_type or "") in _FREE_TYPES):
        return channel, category, 0.0
    for key in ((channel, category, g.country), (channel, category, None),
                (channel, "any", g.country), (channel, "any", None)):
        if key in table:
            return channel, category, table[key]
    return channel, category, None


def _cost(
    session: Session, w: Window, groups: list[_MsgGroup], names: dict[int, str],
    runs: dict[int, int],
) -> CostOut:
    prices = get_prices(session, w.workspace_id)
    table: dict[tuple[str, str, str | None], float] = {
        (p.channel, p.category, p.country): p.price for p in prices.prices}
    total = 0.0
    unpriced = 0
    per_flow: dict[int | None, list[float]] = defaultdict(lambda: [0, 0.0])
    per_cat: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0, 0, 0.0])
    for g in groups:
        channel, category, price = _price_of(table, g)
        cost = (price or 0.0) * g.count
        if price is None:
            unpriced += g.count
        total += cost
        per_flow[g.flow_id][0] += g.count
        per_flow[g.flow_id][1] += cost
        row = per_cat[(channel, category)]
        row[0] += g.count
        row[1] += g.count if price else 0
        row[2] += cost
    conversations = _conversations(session, w)
    flows = [CostFlowOut(
        flow_id=f, flow_name=names.get(f) if f is not None else None, messages=int(v[0]),
        cost=round(v[1], 4), runs=runs.get(f, 0) if f is not None else 0,
        per_run=_ratio(v[1], runs.get(f, 0)) if f is not None else None,
    ) for f, v in sorted(per_flow.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))]
    return CostOut(
        currency=prices.currency, total=round(total, 4), conversations=conversations,
        per_conversation=_ratio(total, conversations), unpriced_messages=unpriced,
        per_flow=flows, by_category=[
            CostCategoryOut(channel=ch, category=cat, messages=int(v[0]), billable=int(v[1]),
                            cost=round(v[2], 4))
            for (ch, cat), v in sorted(per_cat.items())],
    )


CONVERSATION_HOURS = 24


def _conversations(session: Session, w: Window) -> int:
    """Conversations in the range: a conversation opens with a contact's first message (in
    or out) and lasts 24 hours; the next message after that opens a new one (the unit Meta
    priced by until 2025, still how people talk about "cost per conversation"). With a flow
    filter only that flow's messages count."""
    m = Message
    stmt = (select(m.contact_id, m.created_at)
            .where(m.workspace_id == w.workspace_id, m.created_at >= w.start,
                   m.created_at < w.end, m.contact_id.is_not(None))
            .order_by(m.contact_id, m.created_at))
    if w.flow_id is not None:
        stmt = stmt.join(RuntimeRun, RuntimeRun.id == m.run_id).where(
            RuntimeRun.flow_id == w.flow_id)
    count = 0
    current: int | None = None
    opened: datetime | None = None
    span = timedelta(hours=CONVERSATION_HOURS)
    for contact_id, at in session.execute(stmt.execution_options(yield_per=5000)):
        if contact_id != current or opened is None or at - opened >= span:
            current, opened = contact_id, at
            count += 1
    return count


def _errors(session: Session, w: Window, groups: list[_MsgGroup], lang: str) -> list[ErrorOut]:
    counts: dict[tuple[str, str], int] = defaultdict(int)
    examples: dict[tuple[str, str], str | None] = {}
    for g in groups:
        if g.status == "failed":
            key = (g.error_code or "unknown", "message")
            counts[key] += g.count
            examples[key] = examples.get(key) or g.example
    # Dead letters of other effects (HTTP steps, webhooks, tickets...); failed messages are
    # already counted above from the messages table.
    o = OutboxItem
    stmt = (select(o.kind, o.last_error_code, func.count(), func.max(o.last_error))
            .where(o.workspace_id == w.workspace_id, o.status == "dead",
                   o.kind != "message_requested", o.updated_at >= w.start,
                   o.updated_at < w.end)
            .group_by(o.kind, o.last_error_code))
    if w.flow_id is not None:
        stmt = stmt.join(RuntimeRun, RuntimeRun.id == o.run_id).where(
            RuntimeRun.flow_id == w.flow_id)
    for kind, code, n, example in session.execute(stmt):
        key = (code or "unknown", kind)
        counts[key] += int(n)
        examples[key] = examples.get(key) or example
    out = []
    for (code, source), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        a, known = advice(code)
        out.append(ErrorOut(
            code=code, source=source, count=n, known=known,
            reason=a.reason_en if lang == "en" else a.reason_es,
            recommendation=a.recommendation_en if lang == "en" else a.recommendation_es,
            reason_es=a.reason_es, reason_en=a.reason_en,
            recommendation_es=a.recommendation_es, recommendation_en=a.recommendation_en,
            example=(examples.get((code, source)) or None),
        ))
    return out


# -- revenue -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Sale:
    contact_id: int
    at: datetime
    amount: float
    currency: str
    kind: Literal["opportunity", "event"]


def _sales(session: Session, w: Window) -> list[_Sale]:
    """Won opportunities (closed in the range) and business events with a numeric
    ``data.amount`` (received in the range)."""
    sales = [
        _Sale(cid, closed, float(value or 0), currency or "", "opportunity")
        for cid, closed, value, currency in session.execute(
            select(Opportunity.contact_id, Opportunity.closed_at, Opportunity.value,
                   Opportunity.currency)
            .where(Opportunity.workspace_id == w.workspace_id, Opportunity.status == "won",
                   Opportunity.closed_at >= w.start, Opportunity.closed_at < w.end))
        if closed is not None
    ]
    stmt = select(RuntimeInput.contact_id, RuntimeInput.created_at, RuntimeInput.payload).where(
        RuntimeInput.workspace_id == w.workspace_id, RuntimeInput.kind == "event",
        RuntimeInput.created_at >= w.start, RuntimeInput.created_at < w.end)
    for cid, at, payload in session.execute(stmt.execution_options(yield_per=1000)):
        data = payload.get("data") if isinstance(payload, dict) else None
        amount = data.get("amount") if isinstance(data, dict) else None
        if isinstance(amount, bool) or not isinstance(amount, int | float) or amount <= 0:
            continue
        currency = data.get("currency") if isinstance(data, dict) else None
        sales.append(_Sale(cid, at, float(amount),
                           str(currency).upper()[:3] if isinstance(currency, str) else "",
                           "event"))
    return sales


def _revenue(
    session: Session, w: Window, prefs: DashboardSettings, names: dict[int, str],
) -> list[RevenueOut]:
    """Last-touch attribution: each sale goes to the flow of the contact's most recent run
    that started before the sale and at most ``attribution_window_days`` earlier."""
    sales = _sales(session, w)
    if not sales:
        return []
    span = timedelta(days=prefs.attribution_window_days)
    contact_ids = sorted({s.contact_id for s in sales})
    earliest = min(s.at for s in sales) - span
    latest = max(s.at for s in sales)
    runs: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for i in range(0, len(contact_ids), 500):
        for cid, started, flow_id in session.execute(
                select(RuntimeRun.contact_id, RuntimeRun.started_at, RuntimeRun.flow_id)
                .where(RuntimeRun.workspace_id == w.workspace_id,
                       RuntimeRun.contact_id.in_(contact_ids[i:i + 500]),
                       RuntimeRun.started_at >= earliest, RuntimeRun.started_at <= latest)):
            runs[cid].append((started, flow_id))
    for items in runs.values():
        items.sort()
    totals: dict[tuple[int | None, str], list[float]] = defaultdict(lambda: [0.0, 0, 0])
    for sale in sales:
        items = runs.get(sale.contact_id, [])
        i = bisect.bisect_right([t for t, _ in items], sale.at)
        attributed = items[i - 1][1] if i and sale.at - items[i - 1][0] <= span else None
        if w.flow_id is not None and attributed != w.flow_id:
            continue
        row = totals[(attributed, sale.currency)]
        row[0] += sale.amount
        row[1 if sale.kind == "opportunity" else 2] += 1
    extra = {f for f, _ in totals if f is not None and f not in names}
    names = {**names, **_flow_names(session, w.workspace_id, extra)}
    return [RevenueOut(flow_id=f, flow_name=names.get(f) if f is not None else None,
                       currency=cur, amount=round(v[0], 2), opportunities=int(v[1]),
                       events=int(v[2]))
            for (f, cur), v in sorted(totals.items(),
                                      key=lambda kv: (kv[0][0] is None, kv[0][0] or 0, kv[0][1]))]
