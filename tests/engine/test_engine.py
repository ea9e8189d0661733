"""Engine rules that are clearer as direct tests than as golden files."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cauce.engine.runner import (
    EngineMisuse,
    entry_decision,
    interrupt,
    resume,
    start,
    trigger_matches,
)
from cauce.engine.types import (
    ActivityResult,
    EventIn,
    ManualStart,
    MessageIn,
    RunEnded,
    RunStatus,
    TimerFired,
)
from cauce.flows.document import FlowSettings
from cauce.limits import MAX_STEPS_PER_ACTIVATION
from tests.engine.helpers import T0, ctx, end, flow, node, types

MANUAL = ManualStart(at=T0)


def msg(text: str = "hola", at=T0, **kw) -> MessageIn:  # type: ignore[no-untyped-def]
    return MessageIn(channel="whatsapp", text=text, received_at=at, **kw)


def test_a_loop_without_wait_fails_the_run_at_the_step_limit() -> None:
    f = flow(node("a", "add_tag", {"tags": ["x"]}, next="b"),
             node("b", "remove_tag", {"tags": ["x"]}, next="a"))
    step = start(f, MANUAL, ctx(), flow_id=1, flow_version=1)
    assert step.state.status is RunStatus.FAILED
    assert step.state.end_reason and step.state.end_reason.startswith("step_limit")
    assert step.state.steps == MAX_STEPS_PER_ACTIVATION


def test_stop_on_reply_interrupts_a_delay_but_not_a_reply_wait() -> None:
    f = flow(node("w", "delay", {"duration": "1d"}, next="ask"),
             node("ask", "wait_for_reply", {"timeout": "1d"}, replied="done", timeout="done"),
             end(), stop_on_reply=True)
    first = start(f, MANUAL, ctx(), flow_id=1, flow_version=1)
    stopped = resume(f, first.state, msg(), ctx())
    assert stopped.state.status is RunStatus.INTERRUPTED
    assert types(stopped.events) == ["timer_cancelled", "run_ended"]

    timer = first.state.wait.timer_id  # type: ignore[union-attr]
    later = T0 + timedelta(days=1)
    at_reply = resume(f, first.state, TimerFired(timer_id=timer, fired_at=later), ctx(later))
    answered = resume(f, at_reply.state, msg(at=later), ctx(later))
    assert answered.state.status is RunStatus.COMPLETED
    assert any(e.type == "exit_taken" and e.exit == "replied" for e in answered.events)


def test_without_stop_on_reply_a_message_is_ignored_while_delaying() -> None:
    f = flow(node("w", "delay", {"duration": "1d"}, next="done"), end())
    first = start(f, MANUAL, ctx(), flow_id=1, flow_version=1)
    step = resume(f, first.state, msg(), ctx())
    assert step.events == [] and step.state.status is RunStatus.WAITING


def test_goal_jumps_from_a_wait_when_its_condition_becomes_true() -> None:
    f = flow(node("w", "delay", {"duration": "3d"}, next="nudge"),
             node("nudge", "sms", {"text": "¿Compras?"}, next="done", failed=None),
             node("won", "add_tag", {"tags": ["converted"]}, next="done"), end(),
             goal={"condition": {"rules": [{"field": "contact.tags", "operator": "contains",
                                            "value": "compró"}]}, "node": "won"})
    first = start(f, MANUAL, ctx(), flow_id=1, flow_version=1)
    bought = ctx(tags=["compró"])
    step = resume(f, first.state, EventIn(name="order.paid", occurred_at=T0), bought)
    assert types(step.events)[:3] == ["timer_cancelled", "goal_reached", "step_entered"]
    assert step.state.status is RunStatus.COMPLETED and step.state.goal_reached
    assert not any(e.type == "message_requested" for e in step.events)


def test_goal_checked_before_each_step_inside_one_activation() -> None:
    f = flow(node("tag", "add_tag", {"tags": ["vip"]}, next="msg"),
             node("msg", "sms", {"text": "hola"}, next="done", failed=None),
             node("goal", "end", {"reason": "goal"}), end(),
             goal={"condition": {"expression": "contact.tags contains 'vip'"}, "node": "goal"})
    step = start(f, MANUAL, ctx(), flow_id=1, flow_version=1)
    assert step.state.end_reason == "goal"
    assert "message_requested" not in types(step.events)


def test_stale_timer_and_inputs_to_finished_runs_are_no_ops() -> None:
    f = flow(node("w", "delay", {"duration": "1h"}, next="done"), end())
    first = start(f, MANUAL, ctx(), flow_id=1, flow_version=1)
    stale = resume(f, first.state, TimerFired(timer_id="other", fired_at=T0), ctx())
    assert stale.events == [] and stale.state == first.state
    timer = first.state.wait.timer_id  # type: ignore[union-attr]
    done = resume(f, first.state, TimerFired(timer_id=timer, fired_at=T0), ctx())
    assert done.state.status is RunStatus.COMPLETED
    again = resume(f, done.state, TimerFired(timer_id=timer, fired_at=T0), ctx())
    assert again.events == []


def test_misuse_raises() -> None:
    f = flow(node("w", "delay", {"duration": "1h"}, next=None))
    first = start(f, MANUAL, ctx(), flow_id=1, flow_version=1)
    with pytest.raises(EngineMisuse):
        resume(f, first.state, MANUAL, ctx())  # type: ignore[arg-type]
    with pytest.raises(EngineMisuse):
        start(f, TimerFired(timer_id="t", fired_at=T0), ctx(), flow_id=1,  # type: ignore[arg-type]
              flow_version=1)
    with pytest.raises(EngineMisuse):
        resume(f, first.state, msg(), ctx(contact=None, id=2))


def test_unwired_failed_exit_fails_the_run_with_the_reason() -> None:
    f = flow(node("t", "sms", {"text": "{{ contact.fields.nope.x }}"}, next=None, failed=None))
    step = start(f, MANUAL, ctx(phone="+5491100000000"), flow_id=1, flow_version=1)
    assert step.state.status is RunStatus.FAILED
    assert [e.code for e in step.events if e.type == "error"] == ["template_error"]
    assert step.state.end_reason and "nope" in step.state.end_reason


def test_communication_window_holds_messages_not_internal_steps() -> None:
    window = {"weekdays": [0, 1, 2, 3, 4], "start": "09:00", "end": "18:00"}
    f = flow(node("tag", "add_tag", {"tags": ["x"]}, next="s"),
             node("s", "sms", {"text": "hola"}, next="done", failed=None), end(),
             communication_window=window)
    saturday = T0 + timedelta(days=5)
    step = start(f, ManualStart(at=saturday), ctx(saturday, phone="+5491100000000"),
                 flow_id=1, flow_version=1)
    assert types(step.events) == ["run_started", "step_entered", "contact_updated",
                                  "exit_taken", "wait_started"]
    wait = step.state.wait
    assert wait is not None and wait.kind == "window"
    assert wait.due_at == T0 + timedelta(days=7)  # Monday 09:00 local
    fired = resume(f, step.state, TimerFired(timer_id=wait.timer_id or "", fired_at=wait.due_at),
                   ctx(wait.due_at, phone="+5491100000000"))
    assert "message_requested" in types(fired.events)
    assert fired.state.status is RunStatus.COMPLETED


def test_random_split_is_deterministic_and_roughly_weighted() -> None:
    f = flow(node("ab", "random_split", {"paths": [{"name": "a", "weight": 30},
                                                   {"name": "b", "weight": 70}]},
                  a="done", b="done"), end())
    chosen = []
    for contact_id in range(1, 401):
        one = start(f, MANUAL, ctx(contact=None, id=contact_id), flow_id=1, flow_version=1)
        two = start(f, MANUAL, ctx(contact=None, id=contact_id), flow_id=1, flow_version=1)
        assert one.state.split_paths == two.state.split_paths
        chosen.append(one.state.split_paths["ab"])
    share = chosen.count("a") / len(chosen)
    assert 0.2 < share < 0.4


def test_interrupt_cancels_the_timer() -> None:
    f = flow(node("w", "delay", {"duration": "1h"}, next=None))
    first = start(f, MANUAL, ctx(), flow_id=1, flow_version=1)
    step = interrupt(first.state, ctx(), "reentry")
    assert types(step.events) == ["timer_cancelled", "run_ended"]
    assert isinstance(step.events[-1], RunEnded) and step.state.status is RunStatus.INTERRUPTED


@pytest.mark.parametrize(("reentry", "active", "ended", "expected"), [
    ("never", False, False, "start"), ("never", False, True, "skip"),
    ("never", True, False, "skip"), ("after_end", True, True, "skip"),
    ("after_end", False, True, "start"), ("always", True, False, "restart"),
    ("always", False, True, "start"),
])
def test_entry_decision(reentry: str, active: bool, ended: bool, expected: str) -> None:
    settings = FlowSettings.model_validate({"reentry": reentry})
    assert entry_decision(settings, active, ended) == expected


def test_inbound_triggers() -> None:
    f = flow(end(), triggers=[{"type": "inbound_message", "match": "keyword",
                               "keywords": ["BAJA", "precio"], "channel": "whatsapp"}])
    contact = ctx().contact
    assert trigger_matches(f, msg("¿Qué Précio tiene?"), contact)
    assert trigger_matches(f, msg("baja"), contact)
    assert not trigger_matches(f, msg("preciosa"), contact)
    assert not trigger_matches(f, MessageIn(channel="sms", text="precio", received_at=T0), contact)
    ad = flow(end(), triggers=[{"type": "ad_referral", "ad_id": "77"}])
    assert trigger_matches(ad, msg(referral={"source_id": "77"}), contact)
    assert not trigger_matches(ad, msg(referral={"source_id": "78"}), contact)
    assert not trigger_matches(ad, msg(), contact)
    first = flow(end(), triggers=[{"type": "inbound_message", "first_message_only": True}])
    assert not trigger_matches(first, msg(), contact)
    assert trigger_matches(first, msg(first_in_conversation=True), contact)


def test_event_triggers() -> None:
    contact = ctx().contact
    ev = flow(end(), triggers=[{"type": "business_event", "event": "cart.abandoned",
                                "filters": {"rules": [{"field": "event.total", "operator": "gte",
                                                       "value": 1000}]}}])
    assert trigger_matches(ev, EventIn(name="cart.abandoned", data={"total": 1500},
                                       occurred_at=T0), contact)
    assert not trigger_matches(ev, EventIn(name="cart.abandoned", data={"total": 10},
                                           occurred_at=T0), contact)
    tag = flow(end(), triggers=[{"type": "tag_changed", "tag": "VIP", "action": "removed"}])
    assert trigger_matches(tag, EventIn(name="contact.tag_removed", data={"tag": "vip"},
                                        occurred_at=T0), contact)
    assert not trigger_matches(tag, EventIn(name="contact.tag_added", data={"tag": "vip"},
                                            occurred_at=T0), contact)
    sched = flow(end(), triggers=[{"type": "schedule", "cron": "0 9 * * 1", "id": "weekly"}])
    assert trigger_matches(sched, ManualStart(source="schedule", at=T0), contact)
    assert not trigger_matches(sched, ManualStart(source="schedule", params={"trigger_id": "x"},
                                                  at=T0), contact)
    assert not trigger_matches(sched, ManualStart(source="api", at=T0), contact)


def test_activity_for_another_id_is_ignored() -> None:
    f = flow(node("h", "http_request", {"url": "https://x.example"}, success="done",
                  failed="done"), end())
    first = start(f, MANUAL, ctx(), flow_id=1, flow_version=1)
    other = resume(f, first.state, ActivityResult(activity_id="nope", ok=True), ctx())
    assert other.events == [] and other.state.status is RunStatus.WAITING


def test_delivery_reported_during_an_earlier_wait_is_kept_for_the_reply_wait() -> None:
    from cauce.engine.types import DeliveryStatus

    f = flow(node("tpl", "whatsapp_template", {"name": "hola"}, next="pause", failed=None),
             node("pause", "delay", {"duration": "1h"}, next="wait"),
             node("wait", "wait_for_reply", {"timeout": "1d", "message_node": "tpl"},
                  replied="done", timeout="done"), end())
    first = start(f, MANUAL, ctx(), flow_id=1, flow_version=1)
    key = first.state.last_message_key or ""
    noted = resume(f, first.state, DeliveryStatus(message_key=key, status="delivered", at=T0),
                   ctx())
    # Not a move, but an event, so the runtime saves the state that remembers it.
    assert types(noted.events) == ["delivery_recorded"] and key in noted.state.delivered
    later = T0 + timedelta(hours=1)
    timer = noted.state.wait.timer_id  # type: ignore[union-attr]
    waiting = resume(f, noted.state, TimerFired(timer_id=timer or "", fired_at=later),
                     ctx(later))
    wait = waiting.state.wait
    assert wait is not None and wait.delivered and wait.due_at == later + timedelta(days=1)
