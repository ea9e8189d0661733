"""Property tests: random flows and random inputs never crash the engine, never exceed the
step limit, and the same inputs always give the same events."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cauce.engine.runner import resume, start
from cauce.engine.types import (
    ActivityResult,
    ContactSnapshot,
    Context,
    DeliveryStatus,
    EventIn,
    ManualStart,
    MessageIn,
    RunState,
    RunStatus,
    TimerFired,
    WorkspaceSnapshot,
)
from cauce.flows.document import load_flow
from cauce.flows.validate import validate_document
from cauce.limits import MAX_STEPS_PER_ACTIVATION

from .helpers import T0

CONFIGS: dict[str, dict[str, Any]] = {
    "add_tag": {"tags": ["x"]},
    "remove_tag": {"tags": ["x"]},
    "lead_score": {"points": 3},
    "set_field": {"field": "f", "value": "{{ message.text | default: 'v' }}"},
    "condition": {"branches": [{"name": "tagged", "when": {"rules": [
        {"field": "contact.tags", "operator": "contains", "value": "x"}]}}]},
    "random_split": {"paths": [{"name": "a", "weight": 1}, {"name": "b", "weight": 2}]},
    "window_check": {},
    "delay": {"duration": "3h"},
    "wait_for_reply": {"timeout": "1d", "keywords": [{"exit": "stop", "words": ["baja"]}]},
    "wait_for_event": {"event": "order.paid", "timeout": "2d"},
    "wait_for_condition": {"condition": {"rules": [
        {"field": "contact.lead_score", "operator": "gt", "value": 5}]}, "timeout": "1d"},
    "whatsapp_template": {"name": "hola", "buttons": [{"id": "yes", "title": "Sí"}]},
    "whatsapp_buttons": {"body": "¿?", "buttons": [{"id": "yes", "title": "Sí"}],
                         "timeout": "1h"},
    "sms": {"text": "{{ contact.first_name }}"},
    "http_request": {"url": "https://example.com/{{ contact.id }}"},
    "ai_classify_intent": {"intents": [{"name": "buy"}]},
    "handoff": {"team": "x"},
    "end": {},
}
EXITS = {
    "condition": ["tagged", "else"], "random_split": ["a", "b"], "window_check": ["open", "closed"],
    "wait_for_reply": ["replied", "timeout", "stop"], "wait_for_event": ["received", "timeout"],
    "wait_for_condition": ["met", "timeout"], "whatsapp_buttons": ["yes", "replied", "timeout",
                                                                   "failed"],
    "whatsapp_template": ["next", "failed"], "sms": ["next", "failed"],
    "set_field": ["next", "failed"], "http_request": ["success", "failed"],
    "ai_classify_intent": ["buy", "unsure"], "handoff": ["returned", "failed"], "end": [],
}


@st.composite
def flows(draw: st.DrawFn) -> dict[str, Any]:
    count = draw(st.integers(1, 8))
    kinds = [draw(st.sampled_from(sorted(CONFIGS))) for _ in range(count)]
    ids = [f"n{i}" for i in range(count)]
    nodes = []
    for node_id, kind in zip(ids, kinds, strict=True):
        exits = {name: draw(st.none() | st.sampled_from(ids))
                 for name in EXITS.get(kind, ["next"])}
        nodes.append({"id": node_id, "type": kind, "config": CONFIGS[kind], "exits": exits})
    settings_ = {"stop_on_reply": draw(st.booleans())}
    if draw(st.booleans()):
        settings_["goal"] = {"condition": {"rules": [
            {"field": "contact.tags", "operator": "contains", "value": "goal"}]},
            "node": draw(st.sampled_from(ids))}
    return {"metadata": {"name": "random"}, "triggers": [{"type": "manual"}],
            "settings": settings_, "nodes": nodes}


inputs = st.lists(st.one_of(
    st.tuples(st.just("message"), st.sampled_from(["hola", "baja", "", "yes"]),
              st.sampled_from([None, "yes", "other"])),
    st.tuples(st.just("advance"), st.integers(1, 4000)),
    st.tuples(st.just("event"), st.sampled_from(["order.paid", "x"])),
    st.tuples(st.just("activity"), st.booleans(), st.floats(0, 1)),
    st.tuples(st.just("deliver"), st.sampled_from(["delivered", "read", "failed"])),
    st.tuples(st.just("tag"), st.sampled_from(["x", "goal"])),
), max_size=12)


def play(document: dict[str, Any], steps: list[tuple[Any, ...]]) -> list[list[dict[str, Any]]]:
    flow = load_flow(document)
    counter = itertools.count(1)
    now = T0
    contact = ContactSnapshot(id=1, first_name="Ana", phone="+5491100000000")
    out: list[list[dict[str, Any]]] = []

    def ctx() -> Context:
        return Context(now=now, contact=contact.model_copy(deep=True),
                       workspace=WorkspaceSnapshot(id=1), new_id=lambda: f"id{next(counter)}")

    first = start(flow, ManualStart(at=now), ctx(), flow_id=1, flow_version=1)
    state: RunState = first.state
    record = [first.events]
    for step in steps:
        kind = step[0]
        inp: Any = None
        if kind == "message":
            inp = MessageIn(channel="whatsapp", text=step[1], button_id=step[2], received_at=now)
            contact.last_inbound_at = now
        elif kind == "advance":
            now += timedelta(minutes=step[1])
            wait = state.wait
            if wait is not None and wait.due_at is not None and wait.due_at <= now:
                inp = TimerFired(timer_id=wait.timer_id or "", fired_at=now)
        elif kind == "event":
            inp = EventIn(name=step[1], occurred_at=now)
        elif kind == "activity" and state.wait is not None and state.wait.activity_id:
            inp = ActivityResult(activity_id=state.wait.activity_id, ok=step[1],
                                 data={"intent": "buy", "confidence": step[2]})
        elif kind == "deliver" and state.last_message_key:
            inp = DeliveryStatus(message_key=state.last_message_key, status=step[1], at=now)
        elif kind == "tag":
            contact.tags = [*contact.tags, step[1]]
            inp = EventIn(name="contact.updated", occurred_at=now)
        if inp is None:
            continue
        result = resume(flow, state, inp, ctx())
        state = result.state
        record.append(result.events)
    for events in record:
        entered = sum(e.type == "step_entered" for e in events)
        assert entered <= MAX_STEPS_PER_ACTIVATION
        for e in events:
            if e.type == "run_ended" and e.status is RunStatus.FAILED:
                assert e.reason
        out.append([e.model_dump(mode="json") for e in events])
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flows(), inputs)
def test_random_flows_and_inputs_never_raise_and_are_deterministic(
        document: dict[str, Any], steps: list[tuple[Any, ...]]) -> None:
    assert play(document, steps) == play(document, steps)


@settings(max_examples=40, deadline=None)
@given(flows())
def test_validation_never_raises_on_random_flows(document: dict[str, Any]) -> None:
    problems = validate_document(document)
    assert all(p.severity in ("error", "warning") for p in problems)
