"""The KPIs a template declares, computed for one flow from its real data: runs, their step
logs, the messages they sent, the tickets they opened, the contacts' business events and
opportunities. A KPI without data is ``null`` with the reason, never a made-up 0."""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cauce.flows.playbooks import get_template
from cauce.flows.playbooks.spec import (
    EventRatio,
    EventValue,
    Kpi,
    Measure,
    NodeCount,
    NodeRatio,
    OpportunityRatio,
    ResultScore,
    Template,
    TicketCount,
    TimeToAgentMessage,
    TimeToFirstOutbound,
    TimeToNode,
)
from cauce.services.errors import Conflict, Invalid
from cauce.services.flows import get_flow
from cauce.store.models import Flow, FlowVersion, Message, Opportunity, RuntimeInput, Ticket
from cauce.store.models.runtime import RuntimeRun, StepLogEntry

MAX_PERIOD = timedelta(days=366)
DEFAULT_PERIOD = timedelta(days=30)
MAX_RUNS = 50_000  # per computation; larger periods are refused rather than slow
_CHUNK = 500
_INT = re.compile(r"-?\d+(?:[.,]\d+)?")


@dataclass
class KpiValue:
    id: str
    label: dict[str, str]
    how: dict[str, str]
    unit: str
    value: float | None
    numerator: float | None = None
    denominator: float | None = None
    reason: str | None = None


@dataclass
class KpiReport:
    flow_id: int
    template_id: str
    start: datetime
    end: datetime
    runs_started: int
    kpis: list[KpiValue]
    not_computed: list[dict[str, str]] = field(default_factory=list)


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i:i + _CHUNK]


def _naive(value: datetime) -> datetime:
    # SQLite returns naive datetimes; compare everything in naive UTC.
    return value.replace(tzinfo=None) if value.tzinfo is not None else value


class _Data:
    """Lazily loaded facts about the period's runs."""

    def __init__(self, session: Session, flow: Flow, runs: list[RuntimeRun]) -> None:
        self.session = session
        self.flow = flow
        self.runs = runs
        self._reached: dict[str, dict[str, datetime]] | None = None
        self._events: dict[int, list[tuple[datetime, str, dict[str, Any]]]] | None = None
        self._document: dict[str, Any] | None = None

    @property
    def ids(self) -> list[str]:
        return [r.id for r in self.runs]

    @property
    def contacts(self) -> list[int]:
        return sorted({r.contact_id for r in self.runs})

    def document(self) -> dict[str, Any]:
        if self._document is None:
            version = self.session.scalar(
                select(FlowVersion).where(FlowVersion.flow_id == self.flow.id)
                .order_by(FlowVersion.number.desc()).limit(1))
            self._document = version.document if version is not None else self.flow.draft
        return self._document

    def node_config(self, node_id: str) -> dict[str, Any] | None:
        for n in self.document().get("nodes", []):
            if isinstance(n, dict) and n.get("id") == node_id:
                config = n.get("config")
                return config if isinstance(config, dict) else {}
        return None

    def reached(self) -> dict[str, dict[str, datetime]]:
        """run id -> node id -> when the run first entered it."""
        if self._reached is None:
            out: dict[str, dict[str, datetime]] = {r.id: {} for r in self.runs}
            for chunk in _chunks(self.ids):
                rows = self.session.execute(
                    select(StepLogEntry.run_id, StepLogEntry.output, StepLogEntry.at)
                    .where(StepLogEntry.run_id.in_(chunk)).order_by(StepLogEntry.id))
                for run_id, output, at in rows:
                    nodes = out[run_id]
                    for event in output or []:
                        if isinstance(event, dict) and event.get("type") == "step_entered":
                            nodes.setdefault(str(event.get("node_id")), _naive(at))
            self._reached = out
        return self._reached

    def runs_at(self, nodes: Iterable[str]) -> list[RuntimeRun]:
        wanted = set(nodes)
        reached = self.reached()
        return [r for r in self.runs if wanted & set(reached[r.id])]

    def events(self) -> dict[int, list[tuple[datetime, str, dict[str, Any]]]]:
        """contact id -> [(received at, name, data)] of business events since the first run."""
        if self._events is None:
            out: dict[int, list[tuple[datetime, str, dict[str, Any]]]] = {}
            first = min((r.started_at for r in self.runs), default=None)
            for chunk in _chunks(self.contacts):
                stmt = select(RuntimeInput.contact_id, RuntimeInput.created_at,
                              RuntimeInput.payload).where(
                    RuntimeInput.workspace_id == self.flow.workspace_id,
                    RuntimeInput.kind == "event", RuntimeInput.contact_id.in_(chunk))
                if first is not None:
                    stmt = stmt.where(RuntimeInput.created_at >= first)
                for contact_id, at, payload in self.session.execute(stmt.order_by(
                        RuntimeInput.id)):
                    data = payload.get("data") if isinstance(payload, dict) else None
                    out.setdefault(contact_id, []).append(
                        (_naive(at), str(payload.get("name", "")),
                         data if isinstance(data, dict) else {}))
            self._events = out
        return self._events


def _no_runs(kpi: Kpi) -> KpiValue:
    return _null(kpi, "no runs of this flow started in the period")


def _null(kpi: Kpi, reason: str) -> KpiValue:
    return KpiValue(kpi.id, kpi.label.model_dump(), kpi.how.model_dump(), kpi.unit, None,
                    reason=reason)


def _value(kpi: Kpi, value: float, numerator: float | None = None,
           denominator: float | None = None) -> KpiValue:
    return KpiValue(kpi.id, kpi.label.model_dump(), kpi.how.model_dump(), kpi.unit,
                    round(value, 2), numerator, denominator)


def _ratio(kpi: Kpi, numerator: int, denominator: int, empty: str) -> KpiValue:
    if denominator == 0:
        return _null(kpi, empty)
    return _value(kpi, 100.0 * numerator / denominator, numerator, denominator)


def _missing_nodes(data: _Data, nodes: Iterable[str]) -> list[str]:
    return [n for n in nodes if data.node_config(n) is None]


def _base(data: _Data, kpi: Kpi, of_nodes: Sequence[str]) -> tuple[list[RuntimeRun], str]:
    if not of_nodes:
        return data.runs, "no runs of this flow started in the period"
    return data.runs_at(of_nodes), f"no run reached {', '.join(of_nodes)} in the period"


def _event_name(data: _Data, measure: EventRatio | EventValue) -> str | None:
    if measure.event:
        return measure.event
    config = data.node_config(measure.event_node or "")
    name = config.get("event") if config else None
    return str(name) if name else None


def _first_event(data: _Data, run: RuntimeRun, name: str, within: int | None, end: datetime
                 ) -> dict[str, Any] | None:
    start = _naive(run.started_at)
    until = min(end, start + timedelta(seconds=within)) if within else end
    for at, event, payload in data.events().get(run.contact_id, []):
        if event == name and start <= at <= until:
            return payload
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and (m := _INT.search(value)):
        return float(m.group().replace(",", "."))
    return None


def _median_seconds(kpi: Kpi, deltas: list[float], empty: str) -> KpiValue:
    if not deltas:
        return _null(kpi, empty)
    return _value(kpi, statistics.median(deltas), None, len(deltas))


def _compute(data: _Data, kpi: Kpi, end: datetime) -> KpiValue:
    m: Measure = kpi.measure
    if not data.runs:
        return _no_runs(kpi)
    node_refs = [*getattr(m, "nodes", ()), *getattr(m, "of_nodes", ())]
    if isinstance(m, EventRatio | EventValue) and m.event_node:
        node_refs.append(m.event_node)
    if missing := _missing_nodes(data, node_refs):
        return _null(kpi, f"the flow has no node {', '.join(missing)} (it was edited after "
                          "it was created from the template)")
    if isinstance(m, NodeRatio):
        base, empty = _base(data, kpi, m.of_nodes)
        hit = {r.id for r in data.runs_at(m.nodes)}
        return _ratio(kpi, sum(r.id in hit for r in base), len(base), empty)
    if isinstance(m, NodeCount):
        n = len(data.runs_at(m.nodes))
        return _value(kpi, float(n), n, len(data.runs))
    if isinstance(m, TimeToNode):
        reached = data.reached()
        deltas = []
        for run in data.runs:
            times = [reached[run.id][n] for n in m.nodes if n in reached[run.id]]
            if times:
                deltas.append((min(times) - _naive(run.started_at)).total_seconds())
        return _median_seconds(kpi, deltas, f"no run reached {', '.join(m.nodes)} yet")
    if isinstance(m, TimeToFirstOutbound):
        first: dict[str, datetime] = {}
        for chunk in _chunks(data.ids):
            for run_id, sent in data.session.execute(
                    select(Message.run_id, Message.created_at).where(
                        Message.workspace_id == data.flow.workspace_id,
                        Message.direction == "out", Message.run_id.in_(chunk))):
                if run_id is None:
                    continue
                if run_id not in first or _naive(sent) < first[run_id]:
                    first[run_id] = _naive(sent)
        deltas = [(first[r.id] - _naive(r.started_at)).total_seconds()
                  for r in data.runs if r.id in first]
        return _median_seconds(kpi, deltas, "the flow has not sent a message yet")
    if isinstance(m, TimeToAgentMessage):
        base, empty = _base(data, kpi, m.of_nodes)
        if not base:
            return _null(kpi, empty)
        deltas = []
        for run in base:
            start = _naive(run.started_at)
            agent_at = data.session.scalar(
                select(Message.created_at).where(
                    Message.workspace_id == data.flow.workspace_id,
                    Message.contact_id == run.contact_id, Message.direction == "out",
                    Message.run_id.is_(None), Message.created_at >= run.started_at)
                .order_by(Message.created_at).limit(1))
            if agent_at is not None:
                deltas.append((_naive(agent_at) - start).total_seconds())
        return _median_seconds(kpi, deltas, "no person has written to these contacts yet")
    if isinstance(m, EventRatio):
        name = _event_name(data, m)
        if name is None:
            return _null(kpi, "the flow's node no longer names an event")
        base, empty = _base(data, kpi, m.of_nodes)
        hits = sum(_first_event(data, r, name, m.within_seconds, end) is not None for r in base)
        return _ratio(kpi, hits, len(base), empty)
    if isinstance(m, EventValue):
        name = _event_name(data, m)
        if name is None:
            return _null(kpi, "the flow's node no longer names an event")
        values = []
        for run in data.runs:
            payload = _first_event(data, run, name, m.within_seconds, end)
            number = _number(payload.get(m.field)) if payload is not None else None
            if number is not None:
                values.append(number)
        if not values:
            return _null(kpi, f"no '{name}' event with a numeric data.{m.field} after a run "
                              "started")
        total = sum(values)
        return _value(kpi, total if m.aggregate == "sum" else total / len(values),
                      total, len(values))
    if isinstance(m, ResultScore):
        scores = []
        for run in data.runs:
            result = ((run.state or {}).get("results") or {}).get(m.result)
            raw = result.get(m.path) if isinstance(result, dict) else None
            number = _number(raw)
            if number is not None and (m.mode != "nps" or 0 <= number <= 10):
                scores.append(number)
        if not scores:
            return _null(kpi, "no scores answered yet")
        if m.mode == "average":
            return _value(kpi, sum(scores) / len(scores), sum(scores), len(scores))
        promoters = sum(s >= 9 for s in scores)
        detractors = sum(s <= 6 for s in scores)
        return _value(kpi, 100.0 * (promoters - detractors) / len(scores),
                      promoters - detractors, len(scores))
    if isinstance(m, TicketCount):
        ids = set(data.ids)
        first_start = min(r.started_at for r in data.runs)
        tickets = data.session.scalars(select(Ticket).where(
            Ticket.workspace_id == data.flow.workspace_id, Ticket.source == "flow",
            Ticket.created_at >= first_start))
        n = sum(1 for t in tickets if (t.context or {}).get("run_id") in ids
                and (not m.status or t.status in m.status))
        return _value(kpi, float(n), n, None)
    if isinstance(m, OpportunityRatio):
        base, empty = _base(data, kpi, m.of_nodes)
        hits = 0
        for run in base:
            trigger = ((run.state or {}).get("trigger") or {}).get("data") or {}
            stmt = select(Opportunity).where(
                Opportunity.workspace_id == data.flow.workspace_id,
                Opportunity.contact_id == run.contact_id, Opportunity.status == m.status,
                Opportunity.updated_at >= run.started_at)
            opp_id = trigger.get("opportunity_id") if isinstance(trigger, dict) else None
            if isinstance(opp_id, int):
                stmt = stmt.where(Opportunity.id == opp_id)
            hits += data.session.scalar(stmt.limit(1)) is not None
        return _ratio(kpi, hits, len(base), empty)
    raise AssertionError(f"unknown measure {m!r}")  # pragma: no cover - Measure is closed


def flow_template(flow: Flow) -> Template:
    if not flow.template_slug:
        raise Conflict(f"flow {flow.id} was not created from a template, so it declares no "
                       "KPIs", code="no_template")
    try:
        return get_template(flow.template_slug)
    except KeyError:
        raise Conflict(f"flow {flow.id} comes from template '{flow.template_slug}', which this "
                       "version of Cauce does not ship", code="no_template") from None


def flow_kpis(session: Session, workspace_id: int, flow_id: int, now: datetime,
              start: datetime | None = None, end: datetime | None = None) -> KpiReport:
    """Every KPI of the flow's template over the runs started from ``start`` to ``end``
    (both included)."""
    flow = get_flow(session, workspace_id, flow_id)
    template = flow_template(flow)
    end = end or now
    start = start or end - DEFAULT_PERIOD
    if start.tzinfo is None or end.tzinfo is None:
        raise Invalid("from and to need a time zone (e.g. 2026-03-01T00:00:00Z)", field="from")
    if start >= end:
        raise Invalid("'from' must be before 'to'", field="from")
    if end - start > MAX_PERIOD:
        raise Invalid("the period is at most 366 days", field="from")
    runs = list(session.scalars(
        select(RuntimeRun).where(
            RuntimeRun.workspace_id == workspace_id, RuntimeRun.flow_id == flow_id,
            RuntimeRun.started_at >= start, RuntimeRun.started_at <= end)
        .order_by(RuntimeRun.started_at).limit(MAX_RUNS + 1)))
    if len(runs) > MAX_RUNS:
        raise Invalid(f"more than {MAX_RUNS} runs in the period; ask for a shorter one",
                      field="from")
    data = _Data(session, flow, runs)
    naive_end = _naive(end)
    return KpiReport(
        flow_id=flow.id, template_id=template.id, start=start, end=end,
        runs_started=len(runs), kpis=[_compute(data, k, naive_end) for k in template.kpis],
        not_computed=[n.model_dump() for n in template.not_computed])
