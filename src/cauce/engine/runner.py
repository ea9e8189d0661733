"""The engine's entry points: ``start``, ``resume``, ``interrupt`` and trigger matching.

``(flow version, run state, input, context) -> (new run state, events)``. A run advances until
it must wait or ends; every effect is an event for the runtime to persist and carry out.

Error tiers: a problem inside a step (a template that does not render, an HTTP call that
failed) is an ``ErrorOccurred`` event and the step's ``failed`` exit; a fatal one (step limit,
a node that does not exist, an impossible business window, a ``failed`` exit nobody wired)
ends the run ``failed`` with a reason; :class:`EngineMisuse` is raised only for a caller's
mistake (resuming with a start input, a state of another flow).
"""

from __future__ import annotations

from typing import Any, Literal

from cauce.engine.activation import Activation, RunFailure, copy_state
from cauce.engine.types import (
    ActivityResult,
    Context,
    DeliveryRecorded,
    DeliveryStatus,
    ErrorOccurred,
    EventIn,
    ExitTaken,
    GoalReached,
    ManualStart,
    MessageIn,
    RunEnded,
    RunStarted,
    RunState,
    RunStatus,
    Step,
    StepEntered,
    TimerCancelled,
    TimerFired,
    WaitStarted,
    WaitState,
)
from cauce.flows.document import FlowDocument, FlowSettings
from cauce.flows.nodes.base import Node, Outcome
from cauce.flows.templates import TemplateError, evaluate
from cauce.flows.triggers import Trigger
from cauce.limits import MAX_NODES_PER_FLOW, MAX_STEPS_PER_ACTIVATION

StartInput = MessageIn | EventIn | ManualStart
ResumeInput = MessageIn | EventIn | TimerFired | ActivityResult | DeliveryStatus
EntryDecision = Literal["start", "skip", "restart"]


class EngineMisuse(Exception):
    """The caller used the engine wrongly (tier 3). Never raised for a flow's own problems."""


# --------------------------------------------------------------------------------------------
# Triggers and re-entry (the runtime asks these before starting a run)
# --------------------------------------------------------------------------------------------


def match_trigger(flow: FlowDocument, inp: Any, contact: Any) -> Trigger | None:
    """The first trigger of ``flow`` that ``inp`` matches for ``contact``, or None."""
    for trigger in flow.triggers:
        if trigger.matches(inp, contact):
            return trigger
    return None


def trigger_matches(flow: FlowDocument, inp: Any, contact: Any) -> bool:
    """Whether ``inp`` (MessageIn, EventIn or ManualStart) starts ``flow`` for ``contact``."""
    return match_trigger(flow, inp, contact) is not None


def entry_decision(settings: FlowSettings, has_active_run: bool,
                   has_ended_run: bool) -> EntryDecision:
    """What to do when a trigger matches: ``start`` a run, ``skip`` it, or ``restart``
    (interrupt the active run with :func:`interrupt`, then start)."""
    if settings.reentry == "never":
        return "skip" if (has_active_run or has_ended_run) else "start"
    if has_active_run:
        return "restart" if settings.reentry == "always" else "skip"
    return "start"


# --------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------


def start(flow: FlowDocument, inp: StartInput, ctx: Context, *, flow_id: int,
          flow_version: int, run_id: str | None = None) -> Step:
    """Start a run of ``flow`` for ``ctx.contact`` because of ``inp`` and advance it."""
    if not isinstance(inp, MessageIn | EventIn | ManualStart):
        raise EngineMisuse(f"a run cannot start from a '{inp.type}' input; use resume()")
    state = RunState(run_id=run_id or ctx.new_id(), flow_id=flow_id, flow_version=flow_version,
                     contact_id=ctx.contact.id, trigger=inp.model_dump(mode="json"),
                     started_at=ctx.now, updated_at=ctx.now)
    act = Activation(flow, state, ctx)
    if isinstance(inp, MessageIn):
        act.note_inbound(inp)
    trigger = match_trigger(flow, inp, ctx.contact)
    act.emit(RunStarted(flow_id=flow_id, flow_version=flow_version,
                        trigger=trigger.type if trigger else inp.type))
    if len(flow.nodes) > MAX_NODES_PER_FLOW:
        _end(act, RunStatus.FAILED, f"node_limit: the flow has more than {MAX_NODES_PER_FLOW} "
             "nodes")
    else:
        _walk(act, flow.start_node())
    return Step(state=state, events=act.events)


def resume(flow: FlowDocument, state: RunState, inp: ResumeInput, ctx: Context) -> Step:
    """Feed one input to a waiting run. Inputs for a run that is not waiting, and timers that
    are not the current wait's, are no-ops (no events, state unchanged)."""
    if isinstance(inp, ManualStart):
        raise EngineMisuse("ManualStart starts runs; call start()")
    if state.contact_id != ctx.contact.id:
        raise EngineMisuse("the context's contact is not the run's contact")
    if state.status is not RunStatus.WAITING or state.wait is None:
        return Step(state=state, events=[])
    if isinstance(inp, TimerFired) and inp.timer_id != state.wait.timer_id:
        return Step(state=state, events=[])  # stale timer: the run moved on
    state = copy_state(state)
    act = Activation(flow, state, ctx)
    wait = state.wait
    assert wait is not None
    if isinstance(inp, MessageIn):
        act.note_inbound(inp)
    if isinstance(inp, DeliveryStatus) and _delivery(act, inp):
        return _done(act)
    if _goal_met(act):
        _leave_wait(act, wait)
        _walk(act, _goal_node(act))
        return _done(act)
    node = flow.node(wait.node_id)
    if node is None:
        _end(act, RunStatus.FAILED, f"the run waits on node '{wait.node_id}', which this flow "
             "version does not have")
        return _done(act)
    if wait.kind == "window":
        if isinstance(inp, TimerFired):
            state.wait = None
            _walk(act, node.id, window_passed=node.id)
        elif isinstance(inp, MessageIn) and flow.settings.stop_on_reply:
            _end(act, RunStatus.INTERRUPTED, "stop_on_reply")
        return _done(act)
    try:
        outcome = node.on_input(act, wait, inp)
    except RunFailure as exc:
        _end(act, RunStatus.FAILED, exc.reason)
        return _done(act)
    if outcome is None:
        if (isinstance(inp, MessageIn) and flow.settings.stop_on_reply
                and wait.kind != "reply" and node.type != "handoff"):
            _end(act, RunStatus.INTERRUPTED, "stop_on_reply")
        return _done(act)
    if outcome.wait is not None:
        if outcome.wait.timer_id is not None and outcome.wait.timer_id == wait.timer_id:
            state.wait = outcome.wait  # same timer, new details (e.g. "delivered")
            return _done(act)
        if wait.timer_id:
            act.emit(TimerCancelled(timer_id=wait.timer_id))
        _begin_wait(act, outcome.wait)
        return _done(act)
    if wait.timer_id and not isinstance(inp, TimerFired):
        act.emit(TimerCancelled(timer_id=wait.timer_id))
    state.wait = None
    state.status = RunStatus.ACTIVE
    _walk(act, _follow(act, node, outcome))
    return _done(act)


def interrupt(state: RunState, ctx: Context, reason: str) -> Step:
    """End an active run from outside (re-entry ``always``, "remove from flows", an operator):
    cancels its timer and ends it ``interrupted``. A finished run is left as it is."""
    if state.status not in (RunStatus.WAITING, RunStatus.ACTIVE):
        return Step(state=state, events=[])
    state = copy_state(state)
    events: list[Any] = []
    if state.wait is not None and state.wait.timer_id:
        events.append(TimerCancelled(timer_id=state.wait.timer_id))
    state.status, state.wait, state.end_reason = RunStatus.INTERRUPTED, None, reason
    state.ended_at = state.updated_at = ctx.now
    events.append(RunEnded(status=RunStatus.INTERRUPTED, reason=reason))
    return Step(state=state, events=events)


# --------------------------------------------------------------------------------------------
# Internals
# --------------------------------------------------------------------------------------------

_STOP = "\x00stop"  # sentinel "node id": the walk stops (waiting or ended)


def _done(act: Activation) -> Step:
    if act.events:
        act.state.updated_at = act.now
    return Step(state=act.state, events=act.events)


def _goal_node(act: Activation) -> str | None:
    goal = act.flow.settings.goal
    return goal.node if goal else None


def _goal_met(act: Activation) -> bool:
    goal = act.flow.settings.goal
    if goal is None or act.state.goal_reached:
        return False
    try:
        return evaluate(goal.condition, act.data())
    except TemplateError:
        return False  # the validator reports broken goal conditions before publishing


def _walk(act: Activation, node_id: str | None, window_passed: str | None = None) -> None:
    """Execute nodes from ``node_id`` until the run waits or ends."""
    state = act.state
    state.status = RunStatus.ACTIVE
    steps = 0
    current = node_id
    while True:
        if current == _STOP:
            return
        if current is None:
            _end(act, RunStatus.COMPLETED, "end_of_flow")
            return
        goal = _goal_node(act)
        if goal is not None and current != goal and _goal_met(act):
            current = goal
        if current == goal and not state.goal_reached:
            state.goal_reached = True
            act.emit(GoalReached(node_id=current))
        node = act.flow.node(current)
        if node is None:
            _end(act, RunStatus.FAILED, f"no node '{current}' in this flow")
            return
        if steps >= MAX_STEPS_PER_ACTIVATION:
            _end(act, RunStatus.FAILED, f"step_limit: more than {MAX_STEPS_PER_ACTIVATION} steps "
                 "in one activation (a loop without a wait?)")
            return
        steps += 1
        state.steps += 1
        state.node_id = node.id
        if node.communication and window_passed != node.id and _hold_for_window(act, node):
            return
        window_passed = None
        act.emit(StepEntered(node_id=node.id, node_type=node.type))
        try:
            outcome = node.execute(act)
        except RunFailure as exc:
            _end(act, RunStatus.FAILED, exc.reason)
            return
        current = _follow(act, node, outcome)


def _hold_for_window(act: Activation, node: Node) -> bool:
    """Start a ``window`` wait when a message step falls outside the communication window."""
    window = act.flow.settings.communication_window
    if window is None:
        return False
    try:
        due = act.business_time(act.now, window)
    except RunFailure as exc:
        _end(act, RunStatus.FAILED, exc.reason)
        return True
    if due <= act.now:
        return False
    _begin_wait(act, WaitState(kind="window", node_id=node.id, due_at=due))
    return True


def _follow(act: Activation, node: Node, outcome: Outcome) -> str | None:
    """Apply a step's outcome; the next node id, None (end of flow) or _STOP."""
    if outcome.end is not None:
        _end(act, outcome.end, outcome.reason)
        return _STOP
    if outcome.wait is not None:
        _begin_wait(act, outcome.wait)
        return _STOP
    exit_name = outcome.exit or "next"
    target = node.exits.get(exit_name)
    act.emit(ExitTaken(node_id=node.id, exit=exit_name, to_node=target))
    if target is None and exit_name == "failed":
        _end(act, RunStatus.FAILED, f"{node.id}: {act.last_error or 'step failed'} "
             "(its failed exit is not wired)")
        return _STOP
    return target


def _begin_wait(act: Activation, wait: WaitState) -> None:
    if wait.due_at is not None and wait.timer_id is None:
        wait = wait.model_copy(update={"timer_id": act.new_id()})
    act.state.wait = wait
    act.state.status = RunStatus.WAITING
    act.emit(WaitStarted(node_id=wait.node_id, kind=wait.kind, timer_id=wait.timer_id,
                         due_at=wait.due_at))


def _leave_wait(act: Activation, wait: WaitState) -> None:
    if wait.timer_id:
        act.emit(TimerCancelled(timer_id=wait.timer_id))
    act.state.wait = None
    act.state.status = RunStatus.ACTIVE


def _end(act: Activation, status: RunStatus, reason: str | None) -> None:
    state = act.state
    if state.wait is not None and state.wait.timer_id:
        act.emit(TimerCancelled(timer_id=state.wait.timer_id))
    state.status, state.wait = status, None
    state.ended_at, state.end_reason = act.now, reason
    act.emit(RunEnded(status=status, reason=reason))


def _delivery(act: Activation, report: DeliveryStatus) -> bool:
    """Record a delivery report. True when it moved the run (a failed message whose sending
    step has a wired ``failed`` exit); False lets the waiting node see it too."""
    state = act.state
    if report.status in ("delivered", "read") and report.message_key not in state.delivered \
            and report.message_key in state.sent_messages:
        state.delivered.append(report.message_key)
        act.emit(DeliveryRecorded(message_key=report.message_key, status=report.status))
    if report.status != "failed":
        return False
    sender = act.flow.node(state.sent_messages.get(report.message_key))
    if sender is None or not sender.exits.get("failed"):
        return False
    reason = report.error_reason or "the message could not be delivered"
    act.emit(ErrorOccurred(node_id=sender.id, code=report.error_code or "undeliverable",
                           message=reason))
    assert state.wait is not None
    _leave_wait(act, state.wait)
    target = sender.exits["failed"]
    act.emit(ExitTaken(node_id=sender.id, exit="failed", to_node=target))
    _walk(act, target)
    return True
