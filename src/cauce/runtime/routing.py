"""Which waiting runs an input resumes: a pure function of the input and the runs' waits."""

from __future__ import annotations

from cauce.engine.types import (
    ActivityResult,
    DeliveryStatus,
    EventIn,
    Input,
    MessageIn,
    RunState,
    TimerFired,
)


def runs_resumed_by(input: Input, waiting: list[RunState]) -> list[str]:
    """The run ids ``input`` resumes, in order.

    An inbound message goes to the most recently active run waiting for a reply (one
    conversation at a time; older reply waits keep waiting for their own timeout). A timer or
    activity result goes to the run whose current wait it belongs to; when that run has moved
    on, nothing matches and the input is a no-op.
    """
    if isinstance(input, TimerFired):
        return [r.run_id for r in waiting if r.wait and r.wait.timer_id == input.timer_id]
    if isinstance(input, ActivityResult):
        return [r.run_id for r in waiting if r.wait and r.wait.activity_id == input.activity_id]
    if isinstance(input, DeliveryStatus):
        return [
            r.run_id for r in waiting
            if r.wait and input.message_key in (r.wait.message_key, r.last_message_key)
        ]
    if isinstance(input, MessageIn):
        replying = [r for r in waiting if r.wait and r.wait.kind == "reply"]
        replying.sort(key=lambda r: r.updated_at)
        return [replying[-1].run_id] if replying else []
    if isinstance(input, EventIn):
        return [
            r.run_id for r in waiting
            if r.wait and r.wait.kind == "event" and r.wait.event_name == input.name
        ]
    return []
