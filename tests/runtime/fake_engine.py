"""A tiny flow engine behind the runtime's FlowEngine port, so the runtime's guarantees are
tested independently of the product engine's node catalogue.

Document: ``{"trigger": {"event": NAME} | {"keyword": TEXT} | {"manual": true},
"settings": {"stop_on_reply": bool, "reentry": "always"|"never"|"while_active"},
"steps": [{"send": TEXT} | {"wait": SECONDS} | {"reply": SECONDS} | {"http": URL}
| {"template": NAME} | {"tag": TAG}]}``. Each step is node ``s<i>``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from cauce.engine.types import (
    ActivityResult,
    ContactSnapshot,
    ContactUpdated,
    Context,
    EventIn,
    ExitTaken,
    HttpRequested,
    Input,
    ManualStart,
    MessageIn,
    MessageRequested,
    RunEnded,
    RunStarted,
    RunState,
    RunStatus,
    Step,
    StepEntered,
    TimerFired,
    WaitStarted,
    WaitState,
)
from cauce.runtime.engine_port import PastRun, Plan, PublishedFlow
from cauce.runtime.routing import runs_resumed_by


class FakeEngine:
    def plan(
        self, *, input: Input, contact: ContactSnapshot, waiting: list[RunState],
        past: list[PastRun], flows: list[PublishedFlow],
        versions: dict[tuple[int, int], dict[str, Any]], now: datetime,
    ) -> Plan:
        plan = Plan(resume=runs_resumed_by(input, waiting))
        if isinstance(input, MessageIn):
            for run in waiting:
                doc = versions.get((run.flow_id, run.flow_version), {})
                if run.run_id not in plan.resume and doc.get("settings", {}).get("stop_on_reply"):
                    plan.interrupt.append((run.run_id, "contact replied"))
        for flow in flows:
            if not _triggered(flow.document.get("trigger", {}), input, flow.flow_id):
                continue
            reentry = flow.document.get("settings", {}).get("reentry", "always")
            active = [r for r in waiting if r.flow_id == flow.flow_id]
            if reentry == "never" and (active or any(p.flow_id == flow.flow_id for p in past)):
                continue
            if reentry == "while_active" and active:
                continue
            plan.start.append(flow)
        return plan

    def start(self, flow: PublishedFlow, run_id: str, input: Input, ctx: Context) -> Step:
        state = RunState(
            run_id=run_id, flow_id=flow.flow_id, flow_version=flow.version,
            contact_id=ctx.contact.id, started_at=ctx.now, updated_at=ctx.now,
            trigger=input.model_dump(mode="json"),
        )
        events: list[Any] = [RunStarted(flow_id=flow.flow_id, flow_version=flow.version,
                                        trigger=input.type)]
        return self._run(flow.document, state, 0, ctx, events)

    def resume(self, document: dict[str, Any], state: RunState, input: Input, ctx: Context) -> Step:
        assert state.wait is not None and state.node_id is not None
        index = int(state.node_id[1:])
        events: list[Any] = []
        exit_name = "next"
        if isinstance(input, TimerFired):
            exit_name = "timeout" if state.wait.kind == "reply" else "next"
        elif isinstance(input, MessageIn):
            exit_name = "replied"
            state.results[state.node_id] = input.text
        elif isinstance(input, ActivityResult):
            exit_name = "ok" if input.ok else "failed"
            state.results[state.node_id] = input.data if input.ok else {"error": input.error}
        events.append(ExitTaken(node_id=state.node_id, exit=exit_name,
                                to_node=f"s{index + 1}"))
        state = state.model_copy(update={"wait": None, "updated_at": ctx.now})
        return self._run(document, state, index + 1, ctx, events)

    def interrupt(self, state: RunState, ctx: Context, reason: str) -> Step:
        if state.status != RunStatus.WAITING:
            return Step(state=state, events=[])
        state = state.model_copy(update={
            "status": RunStatus.INTERRUPTED, "wait": None, "end_reason": reason,
            "ended_at": ctx.now, "updated_at": ctx.now,
        })
        return Step(state=state, events=[RunEnded(status=RunStatus.INTERRUPTED, reason=reason)])

    def _run(
        self, doc: dict[str, Any], state: RunState, index: int, ctx: Context, events: list[Any]
    ) -> Step:
        steps = doc.get("steps", [])
        while index < len(steps):
            node_id, spec = f"s{index}", steps[index]
            events.append(StepEntered(node_id=node_id, node_type=next(iter(spec))))
            state.steps += 1
            state.node_id = node_id
            if "send" in spec:
                key = f"m{ctx.new_id()}"
                events.append(MessageRequested(
                    key=key, node_id=node_id, channel=spec.get("channel", "whatsapp"),
                    kind="text", payload={"text": spec["send"]},
                ))
            elif "template" in spec:
                # Business-initiated: a template may go outside the 24-hour window.
                key = f"m{ctx.new_id()}"
                events.append(MessageRequested(
                    key=key, node_id=node_id, channel=spec.get("channel", "whatsapp"),
                    kind="template", category="utility",
                    payload={"name": spec["template"], "language": "es"},
                ))
                state.last_message_key = key
            elif "tag" in spec:
                events.append(ContactUpdated(node_id=node_id, add_tags=[spec["tag"]]))
            elif "append" in spec:
                # Records the order inputs reached the contact (ordering tests).
                seen = list(ctx.contact.fields.get(spec["append"], []))
                seen.append(state.trigger.get("data", {}).get("n"))
                events.append(ContactUpdated(node_id=node_id, fields={spec["append"]: seen}))
            elif "wait" in spec or "reply" in spec:
                seconds = spec.get("wait", spec.get("reply"))
                timer_id = f"t{ctx.new_id()}"
                due = ctx.now + timedelta(seconds=seconds)
                kind = "timer" if "wait" in spec else "reply"
                state.wait = WaitState(kind=kind, node_id=node_id, timer_id=timer_id, due_at=due)
                state.status = RunStatus.WAITING
                events.append(WaitStarted(node_id=node_id, kind=kind, timer_id=timer_id,
                                          due_at=due))
                return Step(state=state, events=events)
            elif "http" in spec:
                activity = f"a{ctx.new_id()}"
                state.wait = WaitState(kind="activity", node_id=node_id, activity_id=activity)
                state.status = RunStatus.WAITING
                events.append(HttpRequested(activity_id=activity, node_id=node_id,
                                            method="GET", url=spec["http"]))
                return Step(state=state, events=events)
            events.append(ExitTaken(node_id=node_id, exit="next", to_node=f"s{index + 1}"))
            index += 1
        state.status = RunStatus.COMPLETED
        state.wait = None
        state.ended_at = ctx.now
        state.updated_at = ctx.now
        events.append(RunEnded(status=RunStatus.COMPLETED))
        return Step(state=state, events=events)


def _triggered(trigger: dict[str, Any], input: Input, flow_id: int) -> bool:
    if isinstance(input, ManualStart):
        return input.flow_id == flow_id
    if "event" in trigger and isinstance(input, EventIn):
        return bool(trigger["event"] == input.name)
    if "keyword" in trigger and isinstance(input, MessageIn):
        return input.text.strip().lower() == trigger["keyword"]
    return False
