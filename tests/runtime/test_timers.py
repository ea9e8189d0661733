"""The scheduler fires due timers straight into processing (``Processor.fire_timers``): once
each, in due order, and behind whatever its contact already has pending."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from cauce.clock import VirtualClock
from cauce.engine.types import EventIn
from cauce.runtime.ingest import submit_input, submit_inputs
from cauce.runtime.processor import CONTACT_LOCK_KEY
from cauce.services.container import Cauce
from cauce.store.models import (
    Contact,
    OutboxItem,
    RuntimeInput,
    RuntimeRun,
    RuntimeTimer,
    StepLogEntry,
)
from tests.conftest import T0
from tests.runtime.support import drain, make_contacts, make_workspace, processor, publish

MINUTE = 60


def _later(cauce: Cauce, seconds: float) -> None:
    assert isinstance(cauce.clock, VirtualClock)
    cauce.clock.set(cauce.clock.now() + timedelta(seconds=seconds))


def _seen(cauce: Cauce) -> dict[int, list[int]]:
    with cauce.transaction() as s:
        return {c.id: c.fields.get("seen", []) for c in s.scalars(select(Contact))}


def test_due_timers_resume_their_runs_once_without_an_input_row(cauce: Cauce) -> None:
    ws = make_workspace(cauce)
    contacts = make_contacts(cauce, ws, 300)
    publish(cauce, ws, {"trigger": {"event": "go"},
                        "steps": [{"wait": MINUTE}, {"send": "un minuto después"}]})
    p = processor(cauce, batch_size=100)
    with cauce.transaction() as s:
        submit_inputs(s, [(ws, c, EventIn(name="go", occurred_at=T0)) for c in contacts])
    drain(p)
    assert p.fire_timers(100) == 0  # not due yet
    _later(cauce, MINUTE)
    fired = [p.fire_timers(100) for _ in range(4)]
    assert fired == [100, 100, 100, 0]
    with cauce.transaction() as s:
        assert s.scalar(select(func.count()).select_from(RuntimeTimer)) == 0
        assert Counter(s.scalars(select(RuntimeRun.status)).all()) == {"completed": 300}
        per_run = Counter(s.scalars(select(OutboxItem.run_id)).all())
        assert len(per_run) == 300 and set(per_run.values()) == {1}
        resumed = s.execute(select(StepLogEntry.run_id, StepLogEntry.input_id)
                            .where(StepLogEntry.input_kind == "timer")).all()
        assert len({run for run, _ in resumed}) == len(resumed) == 300
        assert {input_id for _, input_id in resumed} == {None}
        # Only the 300 starting events went through the input queue.
        assert s.scalar(select(func.count()).select_from(RuntimeInput)) == 300
        # The message keys derive from the timer rows, apart from those of inputs.
        keys = s.scalars(select(OutboxItem.key)).all()
        assert all(k.startswith("mt") for k in keys) and len(set(keys)) == 300


def test_a_timer_waits_behind_its_contacts_pending_inputs(cauce: Cauce) -> None:
    ws = make_workspace(cauce)
    a, b = make_contacts(cauce, ws, 2)
    publish(cauce, ws, {"trigger": {"event": "w"},
                        "steps": [{"wait": MINUTE}, {"append": "seen"}]}, name="wait")
    publish(cauce, ws, {"trigger": {"event": "seq"}, "steps": [{"append": "seen"}]},
            name="seq")
    p = processor(cauce)
    with cauce.transaction() as s:
        for c in (a, b):
            submit_input(s, workspace_id=ws, contact_id=c,
                         input=EventIn(name="w", data={"n": 99}, occurred_at=T0))
    drain(p)
    _later(cauce, MINUTE)
    # Contact a has an input waiting when its timer falls due: the timer goes after it.
    with cauce.transaction() as s:
        submit_input(s, workspace_id=ws, contact_id=a,
                     input=EventIn(name="seq", data={"n": 1}, occurred_at=T0))
    assert p.fire_timers() == 2
    assert _seen(cauce) == {a: [], b: [99]}  # b's run resumed at once
    with cauce.transaction() as s:
        queued = s.execute(select(RuntimeInput.contact_id, RuntimeInput.kind)
                           .where(RuntimeInput.status == "pending")
                           .order_by(RuntimeInput.id)).all()
        assert [tuple(r) for r in queued] == [(a, "event"), (a, "timer")]
    drain(p)
    assert _seen(cauce) == {a: [1, 99], b: [99]}


def test_a_timer_nobody_waits_for_is_a_no_op(cauce: Cauce) -> None:
    ws = make_workspace(cauce)
    (contact,) = make_contacts(cauce, ws, 1)
    with cauce.transaction() as s:
        s.add(RuntimeTimer(workspace_id=ws, contact_id=contact, run_id="gone",
                           timer_id="t-gone", due_at=T0))
    assert processor(cauce).fire_timers() == 1
    with cauce.transaction() as s:
        assert s.scalar(select(func.count()).select_from(RuntimeTimer)) == 0
        assert s.scalar(select(func.count()).select_from(StepLogEntry)) == 0
        assert s.scalar(select(func.count()).select_from(RuntimeInput)) == 0


def test_a_timer_of_a_missing_contact_is_kept_as_a_failed_input(cauce: Cauce) -> None:
    ws = make_workspace(cauce)
    with cauce.transaction() as s:
        s.add(RuntimeTimer(workspace_id=ws, contact_id=424242, run_id="r",
                           timer_id="t-lost", due_at=T0))
    assert processor(cauce).fire_timers() == 1
    with cauce.transaction() as s:
        failed = s.scalars(select(RuntimeInput)).one()
        assert (failed.kind, failed.status, failed.contact_id) == ("timer", "failed", 424242)
        assert failed.payload["timer_id"] == "t-lost"
        assert "does not exist" in (failed.error or "")


def test_a_timer_of_a_contact_another_worker_holds_is_queued(cauce: Cauce) -> None:
    if cauce.engine.dialect.name != "postgresql":
        pytest.skip("contact locks are PostgreSQL advisory locks (SQLite has one writer)")
    ws = make_workspace(cauce)
    (contact,) = make_contacts(cauce, ws, 1)
    publish(cauce, ws, {"trigger": {"event": "w"},
                        "steps": [{"wait": MINUTE}, {"append": "seen"}]})
    p = processor(cauce)
    with cauce.transaction() as s:
        submit_input(s, workspace_id=ws, contact_id=contact,
                     input=EventIn(name="w", data={"n": 7}, occurred_at=T0))
    drain(p)
    _later(cauce, MINUTE)
    with cauce.engine.connect() as other:  # another worker, in the middle of a batch
        other.execute(text(f"SELECT pg_advisory_xact_lock({CONTACT_LOCK_KEY}) "
                           "FROM (SELECT CAST(:c AS bigint) AS c) AS x"), {"c": contact})
        assert p.fire_timers() == 1
        other.rollback()
    assert _seen(cauce) == {contact: []}
    with cauce.transaction() as s:
        assert s.scalars(select(RuntimeInput.kind).where(RuntimeInput.status == "pending")
                         ).all() == ["timer"]
    drain(p)
    assert _seen(cauce) == {contact: [7]}
