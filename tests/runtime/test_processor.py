"""Processing inputs: runs, timers, outbox, step log and counters in one transaction."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from cauce.engine.types import EventIn, MessageIn, TimerFired
from cauce.runtime.ingest import submit_input
from cauce.runtime.simclock import advance, wait_until_drained
from cauce.services.container import Cauce
from cauce.store.models import (
    Contact,
    FlowCounter,
    OutboxItem,
    RuntimeInput,
    RuntimeRun,
    RuntimeTimer,
    StepLogEntry,
)
from tests.conftest import T0
from tests.runtime.support import drain, make_contacts, make_workspace, processor, publish

WEEK = 7 * 86400
NURTURE = {
    "trigger": {"event": "signup"},
    "settings": {"stop_on_reply": True},
    "steps": [{"send": "hola"}, {"wait": WEEK}, {"send": "¿seguís ahí?"}],
}


def _event(name: str, n: int = 0) -> EventIn:
    return EventIn(name=name, data={"n": n}, occurred_at=T0)


def _count(cauce: Cauce, model: type, *where: object) -> int:
    with cauce.transaction() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_an_event_starts_a_run_that_sends_and_waits(cauce: Cauce) -> None:
    ws = make_workspace(cauce)
    (contact,) = make_contacts(cauce, ws, 1)
    flow_id = publish(cauce, ws, NURTURE)
    with cauce.transaction() as s:
        submit_input(s, workspace_id=ws, contact_id=contact, input=_event("signup"))
        submit_input(s, workspace_id=ws, contact_id=contact, input=_event("unrelated"))
    assert drain(processor(cauce)) == 2

    with cauce.transaction() as s:
        (run,) = s.scalars(select(RuntimeRun)).all()
        assert (run.flow_id, run.status, run.contact_id) == (flow_id, "waiting", contact)
        (timer,) = s.scalars(select(RuntimeTimer)).all()
        assert timer.due_at == T0 + timedelta(seconds=WEEK)
        assert timer.run_id == run.id
        (out,) = s.scalars(select(OutboxItem)).all()
        assert (out.kind, out.status, out.payload["payload"]["text"]) == (
            "message_requested", "pending", "hola")
        steps = s.scalars(select(StepLogEntry)).all()
        assert [(e.run_id, e.input_kind, e.node_id) for e in steps] == [(run.id, "event", "s1")]
        counters = {(c.node_id, c.exit): c.count for c in s.scalars(select(FlowCounter))}
        assert counters == {("s0", ""): 1, ("s0", "next"): 1, ("s1", ""): 1}
        statuses = s.scalars(select(RuntimeInput.status).order_by(RuntimeInput.id)).all()
        assert statuses == ["done", "done"]


def test_a_week_wait_resumes_after_a_virtual_jump(cauce: Cauce) -> None:
    ws = make_workspace(cauce)
    (contact,) = make_contacts(cauce, ws, 1)
    publish(cauce, ws, NURTURE)
    p = processor(cauce)
    with cauce.transaction() as s:
        submit_input(s, workspace_id=ws, contact_id=contact, input=_event("signup"))
    drain(p)
    result = advance(cauce, WEEK - 1, lambda: wait_until_drained(cauce, p.process_batch))
    assert result.timers_fired == 0
    assert _count(cauce, OutboxItem) == 1
    result = advance(cauce, 1, lambda: wait_until_drained(cauce, p.process_batch))
    assert result.timers_fired == 1
    assert result.now == T0 + timedelta(seconds=WEEK)
    with cauce.transaction() as s:
        (run,) = s.scalars(select(RuntimeRun)).all()
        assert run.status == "completed"
        texts = [o.payload["payload"]["text"] for o in s.scalars(
            select(OutboxItem).order_by(OutboxItem.id))]
        assert texts == ["hola", "¿seguís ahí?"]
    assert _count(cauce, RuntimeTimer) == 0


def test_a_stale_timer_is_a_no_op(cauce: Cauce) -> None:
    ws = make_workspace(cauce)
    (contact,) = make_contacts(cauce, ws, 1)
    publish(cauce, ws, NURTURE)
    p = processor(cauce)
    with cauce.transaction() as s:
        submit_input(s, workspace_id=ws, contact_id=contact, input=_event("signup"))
    drain(p)
    with cauce.transaction() as s:
        timer = s.scalars(select(RuntimeTimer)).one()
        timer_id = timer.timer_id
        # The contact replies: stop-on-reply interrupts the run while its timer still exists.
        submit_input(s, workspace_id=ws, contact_id=contact,
                     input=MessageIn(channel="whatsapp", text="basta", received_at=T0))
    drain(p)
    with cauce.transaction() as s:
        run = s.scalars(select(RuntimeRun)).one()
        assert run.status == "interrupted"
        steps_before = s.scalar(select(func.count()).select_from(StepLogEntry))
        # The timer fires anyway (it was already claimed, or it is replayed): nothing happens.
        submit_input(s, workspace_id=ws, contact_id=contact,
                     input=TimerFired(timer_id=timer_id, fired_at=T0))
    drain(p)
    with cauce.transaction() as s:
        assert s.scalars(select(RuntimeRun.status)).one() == "interrupted"
        assert s.scalar(select(func.count()).select_from(OutboxItem)) == 1
        assert s.scalar(select(func.count()).select_from(StepLogEntry)) == steps_before
        assert s.scalars(select(RuntimeInput.status).order_by(RuntimeInput.id.desc())
                         ).first() == "done"


def test_inputs_of_one_contact_are_processed_in_arrival_order(cauce: Cauce) -> None:
    ws = make_workspace(cauce)
    contacts = make_contacts(cauce, ws, 20)
    publish(cauce, ws, {"trigger": {"event": "seq"}, "steps": [{"append": "seen"}]})
    with cauce.transaction() as s:
        for n in range(5):
            for c in contacts:
                submit_input(s, workspace_id=ws, contact_id=c, input=_event("seq", n))
    # Small batches split a contact's inputs over several transactions.
    drain(processor(cauce, batch_size=7))
    with cauce.transaction() as s:
        seen = {c.id: c.fields.get("seen") for c in s.scalars(select(Contact))}
    assert all(v == [0, 1, 2, 3, 4] for v in seen.values()), seen


def test_an_input_for_a_missing_contact_fails_visibly(cauce: Cauce) -> None:
    ws = make_workspace(cauce)
    with cauce.transaction() as s:
        submit_input(s, workspace_id=ws, contact_id=999_999, input=_event("signup"))
    drain(processor(cauce))
    with cauce.transaction() as s:
        row = s.scalars(select(RuntimeInput)).one()
    assert row.status == "failed"
    assert row.error == "contact 999999 does not exist"


def test_fired_timers_become_inputs_in_due_order_with_the_engine_payload(cauce: Cauce) -> None:
    """PostgreSQL builds the fired timers' inputs in SQL: they must read exactly as the
    typed ``TimerFired`` dumps (with and without microseconds) and keep due order."""
    from cauce.runtime.scheduler import fire_due_timers

    ws = make_workspace(cauce)
    a, b = make_contacts(cauce, ws, 2)
    dues = [T0 + timedelta(seconds=5, microseconds=120_000), T0 + timedelta(seconds=3),
            T0 + timedelta(seconds=4, microseconds=7)]
    with cauce.transaction() as s:
        for i, (contact, due) in enumerate(zip([a, b, a], dues, strict=True)):
            s.add(RuntimeTimer(workspace_id=ws, contact_id=contact, run_id=f"r{i}",
                               timer_id=f"t{i}", due_at=due))
        s.add(RuntimeTimer(workspace_id=ws, contact_id=b, run_id="later", timer_id="later",
                           due_at=T0 + timedelta(hours=1)))
    with cauce.transaction() as s:
        assert fire_due_timers(s, T0 + timedelta(seconds=10)) == 3
    with cauce.transaction() as s:
        stored = s.execute(select(RuntimeInput.contact_id, RuntimeInput.kind,
                                  RuntimeInput.payload, RuntimeInput.status)
                           .order_by(RuntimeInput.id)).all()
        assert s.scalars(select(RuntimeTimer.timer_id)).all() == ["later"]
    expected = [(b, "t1", dues[1]), (a, "t2", dues[2]), (a, "t0", dues[0])]
    assert [(r.contact_id, r.kind, r.payload, r.status) for r in stored] == [
        (contact, "timer", TimerFired(timer_id=t, fired_at=due).model_dump(mode="json"),
         "pending") for contact, t, due in expected
    ]


def test_a_contact_whose_older_input_another_worker_holds_waits_for_it(cauce: Cauce) -> None:
    """PostgreSQL (several workers): the claim skips rows another worker holds, so it can
    claim a contact's newer input while the older one is held; that contact's inputs wait
    (strict arrival order) while the other contacts' inputs of the batch are processed."""
    if cauce.engine.dialect.name != "postgresql":
        return  # SQLite has one writer: no input is ever held by another worker
    ws = make_workspace(cauce)
    a, b = make_contacts(cauce, ws, 2)
    with cauce.transaction() as s:
        for contact, n in ((a, 1), (b, 1), (a, 2), (b, 2)):
            submit_input(s, workspace_id=ws, contact_id=contact, input=_event("x", n))
    with cauce.transaction() as s:
        ids = s.scalars(select(RuntimeInput.id).order_by(RuntimeInput.id)).all()
    a1, b1, a2, b2 = ids
    other = cauce.engine.connect()
    try:
        tx = other.begin()
        other.execute(select(RuntimeInput.id).where(RuntimeInput.id == a1).with_for_update())
        assert processor(cauce).process_batch() == 2
        with cauce.transaction() as s:
            status = dict(s.execute(select(RuntimeInput.id, RuntimeInput.status)).all())
        assert status == {a1: "pending", b1: "done", a2: "pending", b2: "done"}
        tx.rollback()
    finally:
        other.close()
    assert drain(processor(cauce)) == 2
    assert _count(cauce, RuntimeInput, RuntimeInput.status == "done") == 4
