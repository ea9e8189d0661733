"""Run a flow on virtual time: the host side of the engine, in memory, for tests.

A :class:`Scenario` is a flow, a contact and a list of steps (a message, an event, "advance
2 days", a delivery report, an activity result, expectations). :func:`run_scenario` plays it
through ``start``/``resume`` exactly as the runtime would — matching triggers, honouring
re-entry, firing due timers in order, reporting deliveries — and returns the events of every
step. ``cauce flows test`` and the golden tests under ``tests/golden/`` are built on it.
Pure: time only moves when a step says so.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import Field

from cauce.engine.runner import entry_decision, interrupt, resume, start, trigger_matches
from cauce.engine.types import (
    ActivityResult,
    ContactSnapshot,
    ContactUpdated,
    Context,
    DeliveryStatus,
    EventIn,
    ManualStart,
    MessageIn,
    MessageRequested,
    RunState,
    RunStatus,
    TimerFired,
    WorkspaceSnapshot,
)
from cauce.flows.common import Duration, Strict
from cauce.flows.document import FlowDocument, load_flow

DEFAULT_START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday, 09:00 in Buenos Aires
MAX_TIMERS_PER_ADVANCE = 1000


class Scenario(Strict):
    """A flow test case. ``steps`` items are one-key objects:

    - ``{"message": {"text": "hola", "button_id": null, "channel": "whatsapp", ...}}``
    - ``{"event": {"name": "cart.abandoned", "data": {...}}}``
    - ``{"manual": {"source": "api", "params": {...}}}``
    - ``{"advance": "2d"}`` — fire every timer due in between, in order
    - ``{"deliver": {"status": "failed", "message": "last"}}`` — a delivery report
    - ``{"activity": {"ok": true, "data": {...}}}`` — result of the awaited HTTP/AI/handoff call
    - ``{"contact": {"tags": [...], ...}}`` — change the contact (then re-check the run)
    - ``{"expect": {"messages": [...], "exits": ["node.exit"], "status": "waiting",
      "node": "id", "tags": [...], "no_messages": true}}`` — checked against what happened
      since the previous ``expect``
    """

    name: str = ""
    description: str = ""
    flow: dict[str, Any] | None = None
    contact: dict[str, Any] = Field(default_factory=lambda: {"id": 1})
    workspace: dict[str, Any] = Field(default_factory=lambda: {"id": 1})
    start_at: datetime = DEFAULT_START
    auto_deliver: bool = True
    steps: list[dict[str, Any]] = Field(default_factory=list)


class ScenarioResult(Strict):
    steps: list[list[dict[str, Any]]]  # events (as JSON) per step
    failures: list[str]  # failed expectations, "step N: ..."
    status: str | None = None


class _Host:
    def __init__(self, flow: FlowDocument, scenario: Scenario) -> None:
        self.flow = flow
        self.scenario = scenario
        self.now = scenario.start_at
        self.contact = ContactSnapshot.model_validate(scenario.contact)
        self.workspace = WorkspaceSnapshot.model_validate(scenario.workspace)
        self.counter = 0
        self.run: RunState | None = None
        self.ended_runs = 0
        self.last_ended: RunState | None = None
        self.events: list[Any] = []

    def new_id(self) -> str:
        self.counter += 1
        return f"id{self.counter}"

    def ctx(self) -> Context:
        return Context(now=self.now, contact=self.contact.model_copy(deep=True),
                       workspace=self.workspace, new_id=self.new_id)

    def _absorb(self, state: RunState, events: list[Any]) -> None:
        self.run = state
        self.events += events
        for event in events:
            if isinstance(event, ContactUpdated):
                self._apply(event)
        if state.status not in (RunStatus.WAITING, RunStatus.ACTIVE):
            self.ended_runs += 1
            self.run = None
            self.last_ended = state
        if self.scenario.auto_deliver:
            for event in events:
                if isinstance(event, MessageRequested) and self.run is not None:
                    self.feed(DeliveryStatus(message_key=event.key, status="delivered",
                                             at=self.now))

    def _apply(self, event: ContactUpdated) -> None:
        c = self.contact
        for key, value in event.fields.items():
            if key in ContactSnapshot.model_fields and key not in ("id", "tags", "fields"):
                setattr(c, key, value)
            else:
                c.fields[key] = value
        c.tags = [t for t in c.tags if t not in event.remove_tags]
        c.tags += [t for t in event.add_tags if t not in c.tags]
        c.lead_score += event.lead_score_delta
        if event.opt_out_marketing is not None:
            c.opted_out_marketing = event.opt_out_marketing

    def feed(self, inp: Any) -> None:
        if isinstance(inp, MessageIn):
            self.contact.last_inbound_at = inp.received_at
        if self.run is not None and not isinstance(inp, ManualStart):
            step = resume(self.flow, self.run, inp, self.ctx())
            self._absorb(step.state, step.events)
            return
        if isinstance(inp, MessageIn | EventIn | ManualStart):
            if not isinstance(inp, ManualStart) and not trigger_matches(self.flow, inp,
                                                                        self.contact):
                return
            decision = entry_decision(self.flow.settings, self.run is not None,
                                      self.ended_runs > 0)
            if decision == "skip":
                return
            if decision == "restart" and self.run is not None:
                stopped = interrupt(self.run, self.ctx(), "reentry")
                self._absorb(stopped.state, stopped.events)
            step = start(self.flow, inp, self.ctx(), flow_id=1, flow_version=1)
            self._absorb(step.state, step.events)

    def advance(self, delta: timedelta) -> None:
        target = self.now + delta
        for _ in range(MAX_TIMERS_PER_ADVANCE):
            wait = self.run.wait if self.run is not None else None
            if wait is None or wait.due_at is None or wait.timer_id is None \
                    or wait.due_at > target:
                break
            self.now = max(self.now, wait.due_at)
            self.feed(TimerFired(timer_id=wait.timer_id, fired_at=self.now))
        self.now = target


def run_scenario(scenario: Scenario, flow: FlowDocument | None = None) -> ScenarioResult:
    """Play a scenario; the flow comes from ``flow`` or ``scenario.flow``."""
    if flow is None:
        if scenario.flow is None:
            raise ValueError("the scenario has no flow")
        flow = load_flow(scenario.flow)
    host = _Host(flow, scenario)
    per_step: list[list[dict[str, Any]]] = []
    failures: list[str] = []
    since_expect = 0
    for number, raw in enumerate(scenario.steps, start=1):
        if len(raw) != 1:
            raise ValueError(f"step {number}: one key per step, got {sorted(raw)}")
        (kind, arg), = raw.items()
        before = len(host.events)
        if kind == "expect":
            failures += [f"step {number}: {f}"
                         for f in _check(arg, host, host.events[since_expect:])]
            since_expect = len(host.events)
            per_step.append([])
            continue
        _play(host, kind, arg, number)
        per_step.append([e.model_dump(mode="json") for e in host.events[before:]])
    status = _status(host)
    return ScenarioResult(steps=per_step, failures=failures, status=status)


def _status(host: _Host) -> str | None:
    if host.run is not None:
        return host.run.status.value
    return host.last_ended.status.value if host.last_ended is not None else None


def _play(host: _Host, kind: str, arg: Any, number: int) -> None:
    if kind == "message":
        data = {"channel": "whatsapp", **(arg if isinstance(arg, dict) else {"text": arg})}
        data.setdefault("message_id", f"in{number}")
        host.feed(MessageIn.model_validate({**data, "received_at": host.now}))
    elif kind == "event":
        host.feed(EventIn.model_validate({**arg, "occurred_at": host.now}))
    elif kind == "manual":
        host.feed(ManualStart.model_validate({**(arg or {}), "at": host.now}))
    elif kind == "advance":
        host.advance(Duration.model_validate(arg).delta)
    elif kind == "deliver":
        key = arg.get("message", "last")
        if key == "last":
            key = host.run.last_message_key if host.run else None
        if key:
            host.feed(DeliveryStatus(message_key=key, status=arg.get("status", "delivered"),
                                     error_code=arg.get("error_code"),
                                     error_reason=arg.get("error_reason"), at=host.now))
    elif kind == "activity":
        wait = host.run.wait if host.run else None
        if wait is not None and wait.activity_id:
            host.feed(ActivityResult(activity_id=wait.activity_id, ok=arg.get("ok", True),
                                     data=arg.get("data", {}), error=arg.get("error")))
    elif kind == "contact":
        for key, value in arg.items():
            setattr(host.contact, key, value)
        if host.run is not None:
            host.feed(EventIn(name="contact.updated", data=arg, occurred_at=host.now))
    else:
        raise ValueError(f"step {number}: unknown step '{kind}'")


def _matches(expected: dict[str, Any], event: MessageRequested) -> bool:
    flat = {"kind": event.kind, "channel": event.channel, "node": event.node_id,
            "category": event.category, **event.payload}
    return all(flat.get(k) == v for k, v in expected.items())


def _check(expect: dict[str, Any], host: _Host, events: list[Any]) -> list[str]:
    failures = []
    sent = [e for e in events if isinstance(e, MessageRequested)]
    if "messages" in expect:
        wanted = expect["messages"]
        if len(wanted) != len(sent):
            failures.append(f"expected {len(wanted)} messages, got {len(sent)}: "
                            f"{[e.payload for e in sent]}")
        for i, (want, got) in enumerate(zip(wanted, sent, strict=False)):
            if not _matches(want, got):
                failures.append(f"message {i + 1}: expected {want}, got {got.kind} "
                                f"{got.payload}")
    if expect.get("no_messages") and sent:
        failures.append(f"expected no messages, got {len(sent)}")
    if "exits" in expect:
        taken = [f"{e.node_id}.{e.exit}" for e in events if e.type == "exit_taken"]
        remaining = iter(taken)
        missing = [x for x in expect["exits"] if x not in remaining]
        if missing:
            failures.append(f"exits {missing} not taken (taken: {taken})")
    if "status" in expect:
        actual = _status(host) or "not_started"
        if actual != expect["status"]:
            failures.append(f"expected status {expect['status']}, got {actual}")
    if "node" in expect:
        actual_node = host.run.node_id if host.run else None
        if actual_node != expect["node"]:
            failures.append(f"expected to be at node {expect['node']}, got {actual_node}")
    for tag in expect.get("tags", []):
        if tag not in host.contact.tags:
            failures.append(f"expected tag '{tag}' on the contact")
    return failures
