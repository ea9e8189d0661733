"""Engine throughput: how many activations per second one core gives the runtime.

Plays the shipped reactivation flow (seed 001) for many contacts — start, 7-day business-time
delay, window check, template, reply — and the support flow's AI/handoff steps, timing only
the pure engine calls (no database). Also times validation of every shipped example.
"""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime, timedelta

from cauce.engine.runner import resume, start
from cauce.engine.types import (
    ContactSnapshot,
    Context,
    DeliveryStatus,
    EventIn,
    MessageIn,
    TimerFired,
    WorkspaceSnapshot,
)
from cauce.flows.document import load_flow
from cauce.flows.examples import example_names, load_example
from cauce.flows.validate import validate_document

CONTACTS = int(__import__("os").environ.get("BENCH_CONTACTS", "5000"))
T0 = datetime(2026, 3, 4, 20, 0, tzinfo=UTC)


def reactivation_runs() -> tuple[int, float]:
    flow = load_flow(load_example("reactivation"))
    ws = WorkspaceSnapshot(id=1)
    ids = itertools.count()
    activations = 0
    elapsed = 0.0
    for n in range(CONTACTS):
        contact = ContactSnapshot(id=n, phone=f"+54911{n:08d}", first_name="Ana", country="AR",
                                  last_inbound_at=T0 + timedelta(days=7))

        def ctx(now: datetime, c: ContactSnapshot = contact) -> Context:
            return Context(now=now, contact=c, workspace=ws, new_id=lambda: f"i{next(ids)}")

        event = EventIn(name="opportunity.changed", occurred_at=T0, data={
            "pipeline": "Ventas", "stage": "Volumetric Appenders", "from_status": "open",
            "status": "abandoned", "moved_to_status": "abandoned", "opportunity_id": n})
        t = time.perf_counter()
        step = start(flow, event, ctx(T0), flow_id=1, flow_version=1)
        wait = step.state.wait
        assert wait is not None and wait.due_at is not None
        step = resume(flow, step.state, TimerFired(timer_id=wait.timer_id or "",
                                                    fired_at=wait.due_at), ctx(wait.due_at))
        key = step.state.last_message_key or ""
        step = resume(flow, step.state, DeliveryStatus(message_key=key, status="delivered",
                                                       at=wait.due_at), ctx(wait.due_at))
        step = resume(flow, step.state, MessageIn(channel="whatsapp", text="Quiero retomar",
                                                  button_id="resume", received_at=wait.due_at),
                      ctx(wait.due_at))
        elapsed += time.perf_counter() - t
        activations += 4
        assert step.state.status.value == "completed"
    return activations, elapsed


def main() -> None:
    activations, elapsed = reactivation_runs()
    print(f"{'measure':<44}{'value':>14}")
    print(f"{'reactivation runs (4 activations each)':<44}{CONTACTS:>14,}")
    print(f"{'activations per second (one core)':<44}{activations / elapsed:>14,.0f}")
    print(f"{'mean ms per activation':<44}{1000 * elapsed / activations:>14.3f}")
    docs = [load_example(name) for name in example_names()]
    t = time.perf_counter()
    rounds = 50
    for _ in range(rounds):
        for doc in docs:
            validate_document(doc)
    per = 1000 * (time.perf_counter() - t) / (rounds * len(docs))
    print(f"{'validate one example flow (ms)':<44}{per:>14.2f}")


if __name__ == "__main__":
    main()
