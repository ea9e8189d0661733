"""``cauce.engine`` behind the runtime's :class:`~cauce.runtime.engine_port.FlowEngine` port.

The engine works on parsed :class:`FlowDocument` objects; versions are immutable, so each is
parsed once per process and cached by (flow id, version).
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from cauce.engine import runner as engine
from cauce.engine.types import (
    ActivityResult,
    ContactSnapshot,
    Context,
    DeliveryStatus,
    EventIn,
    Input,
    ManualStart,
    MessageIn,
    RunState,
    Step,
    TimerFired,
)
from cauce.flows.document import FlowDocument, load_flow
from cauce.runtime.engine_port import PastRun, Plan, PublishedFlow

_CACHE_LIMIT = 4096


class CauceEngine:
    def __init__(self) -> None:
        self._parsed: dict[tuple[int, int], FlowDocument] = {}
        self._lock = threading.Lock()

    def _flow(self, flow_id: int, version: int, document: dict[str, Any]) -> FlowDocument:
        key = (flow_id, version)
        with self._lock:
            flow = self._parsed.get(key)
        if flow is None:
            flow = load_flow(document)
            with self._lock:
                if len(self._parsed) >= _CACHE_LIMIT:
                    self._parsed.clear()
                self._parsed[key] = flow
        return flow

    def plan(
        self, *, input: Input, contact: ContactSnapshot, waiting: list[RunState],
        past: list[PastRun], flows: list[PublishedFlow],
        versions: dict[tuple[int, int], dict[str, Any]], now: datetime,
    ) -> Plan:
        plan = Plan()
        restarting: set[str] = set()
        if isinstance(input, MessageIn | EventIn | ManualStart):
            for published in flows:
                if isinstance(input, ManualStart) and input.flow_id is not None:
                    if published.flow_id != input.flow_id:
                        continue
                else:
                    flow = self._flow(published.flow_id, published.version, published.document)
                    if not engine.trigger_matches(flow, input, contact):
                        continue
                flow = self._flow(published.flow_id, published.version, published.document)
                active = [r for r in waiting if r.flow_id == published.flow_id]
                ended = any(p.flow_id == published.flow_id for p in past)
                decision = engine.entry_decision(flow.settings, bool(active), ended)
                if decision == "skip":
                    continue
                if decision == "restart":
                    for run in active:
                        plan.interrupt.append((run.run_id, "reentry"))
                        restarting.add(run.run_id)
                plan.start.append(published)
        plan.resume = [r.run_id for r in waiting
                       if r.run_id not in restarting and _concerns(input, r)]
        return plan

    def start(self, flow: PublishedFlow, run_id: str, input: Input, ctx: Context) -> Step:
        doc = self._flow(flow.flow_id, flow.version, flow.document)
        if not isinstance(input, MessageIn | EventIn | ManualStart):
            raise engine.EngineMisuse(f"a run cannot start from a '{input.type}' input")
        return engine.start(doc, input, ctx, flow_id=flow.flow_id, flow_version=flow.version,
                            run_id=run_id)

    def resume(self, document: dict[str, Any], state: RunState, input: Input, ctx: Context) -> Step:
        doc = self._flow(state.flow_id, state.flow_version, document)
        if isinstance(input, ManualStart):
            return Step(state=state, events=[])
        return engine.resume(doc, state, input, ctx)

    def interrupt(self, state: RunState, ctx: Context, reason: str) -> Step:
        return engine.interrupt(state, ctx, reason)


def _concerns(input: Input, run: RunState) -> bool:
    """Cheap pre-filter; the engine itself ignores inputs that are not for the run."""
    wait = run.wait
    if wait is None:
        return False
    if isinstance(input, TimerFired):
        return wait.timer_id == input.timer_id
    if isinstance(input, ActivityResult):
        return wait.activity_id == input.activity_id
    if isinstance(input, DeliveryStatus):
        # Any message the run sent: a failure report for an earlier step's message must reach
        # that step's ``failed`` exit, not only the waited-for or last one.
        return input.message_key in (wait.message_key, run.last_message_key) \
            or input.message_key in run.sent_messages
    return not isinstance(input, ManualStart)
