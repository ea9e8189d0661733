"""Delivering the outbox: SSRF refusal, retries with Retry-After, dead letters and their retry,
rate-limit buckets, messages through the channel adapters."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from cauce.engine.types import EventIn
from cauce.runtime import ratelimit
from cauce.runtime.delivery import Attempt, Delivery, DeliveryConfig, Outcome, Route
from cauce.runtime.handlers import HttpHandler, MessageHandler
from cauce.runtime.http_step import Refused, check_target
from cauce.runtime.ingest import submit_input
from cauce.services.container import Cauce
from cauce.services.runs import retry_dead_letter
from cauce.store.models import OutboxItem, RuntimeInput, RuntimeRun, StepLogEntry, Workspace
from cauce.store.models.messages import Message
from tests.conftest import T0
from tests.runtime.fake_http import json_answer, serve
from tests.runtime.support import drain, make_contacts, make_workspace, processor, publish


class WallClock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def _start(cauce: Cauce, steps: list[dict[str, object]]) -> tuple[int, int]:
    ws = make_workspace(cauce)
    (contact,) = make_contacts(cauce, ws, 1)
    publish(cauce, ws, {"trigger": {"event": "go"}, "steps": steps})
    with cauce.transaction() as s:
        submit_input(s, workspace_id=ws, contact_id=contact,
                     input=EventIn(name="go", occurred_at=T0))
    drain(processor(cauce))
    return ws, contact


def _counter(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _outbox(cauce: Cauce) -> list[OutboxItem]:
    with cauce.transaction() as s:
        return list(s.scalars(select(OutboxItem).order_by(OutboxItem.id)))


def test_http_step_to_a_private_address_is_refused_until_the_workspace_allows_it(
    cauce: Cauce,
) -> None:
    with serve(json_answer(200, {"stock": 3})) as (url, recorder):
        ws, _ = _start(cauce, [{"http": f"{url}/stock"}, {"send": "listo"}])
        delivery = Delivery(cauce, handlers={"http_requested": HttpHandler()})
        assert delivery.deliver_batch() == 1
        (item,) = _outbox(cauce)
        assert item.status == "dead"
        assert "non-public address 127.0.0.1" in (item.last_error or "")
        assert recorder.requests == []
        # The run hears about it and follows its failure path.
        drain(processor(cauce))
        with cauce.transaction() as s:
            run = s.scalars(select(RuntimeRun)).one()
            assert run.status == "completed"
            step = s.scalars(select(StepLogEntry).where(StepLogEntry.input_kind == "activity")
                             ).one()
            assert step.input["ok"] is False and "refused" in step.input["error"]
        # An admin allows the host; the dead letter is retried and goes through.
        with cauce.transaction() as s:
            workspace = s.get(Workspace, ws)
            assert workspace is not None
            workspace.settings = {"http_allowed_hosts": ["127.0.0.1"]}
            retried = retry_dead_letter(s, ws, item.id)
            assert (retried.status, retried.attempts) == ("pending", 0)
        assert delivery.deliver_batch() == 1
        assert [(m, p) for m, p, _ in recorder.requests] == [("GET", "/stock")]
        assert _outbox(cauce)[0].status == "done"
        delivery.close()


def test_retryable_answers_back_off_honour_retry_after_then_become_dead_letters(
    cauce: Cauce,
) -> None:
    answer = json_answer(503, {"error": "busy"}, {"Retry-After": "120"})
    with serve(answer) as (url, recorder):
        ws = make_workspace(cauce, "allowed")
        with cauce.transaction() as s:
            workspace = s.get(Workspace, ws)
            assert workspace is not None
            workspace.settings = {"http_allowed_hosts": ["127.0.0.1"]}
        (contact,) = make_contacts(cauce, ws, 1)
        publish(cauce, ws, {"trigger": {"event": "go"}, "steps": [{"http": url}]})
        with cauce.transaction() as s:
            submit_input(s, workspace_id=ws, contact_id=contact,
                         input=EventIn(name="go", occurred_at=T0))
        drain(processor(cauce))
        wall = WallClock()
        delivery = Delivery(cauce, DeliveryConfig(max_attempts=2),
                            handlers={"http_requested": HttpHandler()}, wall_clock=wall)
        assert delivery.deliver_batch() == 1
        (item,) = _outbox(cauce)
        assert (item.status, item.attempts, item.last_error) == ("pending", 1, "HTTP 503")
        assert item.next_attempt_at >= wall.now + timedelta(seconds=120)
        assert delivery.deliver_batch() == 0  # not due yet
        wall.now += timedelta(seconds=121)
        assert delivery.deliver_batch() == 1
        (item,) = _outbox(cauce)
        assert item.status == "dead"
        assert item.last_error == "gave up after 2 attempts: HTTP 503"
        assert len(recorder.requests) == 2
        delivery.close()


def test_messages_go_through_the_channel_adapter_with_the_key(cauce: Cauce) -> None:
    _start(cauce, [{"template": "bienvenida"}, {"template": "recordatorio"}])
    delivery = Delivery(cauce, handlers={"message_requested": MessageHandler()})
    assert delivery.deliver_batch() == 2
    items = _outbox(cauce)
    assert [i.status for i in items] == ["done", "done"]
    # No WhatsApp number is configured: the simulator carries it, keyed by our idempotency key.
    assert [i.provider_id for i in items] == [f"sim.{i.key}" for i in items]
    delivery.close()


def test_contact_rules_stop_free_text_outside_the_24_hour_window(cauce: Cauce) -> None:
    _start(cauce, [{"send": "hola"}])
    delivery = Delivery(cauce, handlers={"message_requested": MessageHandler()})
    delivery.deliver_batch()
    (item,) = _outbox(cauce)
    assert item.status == "dead" and item.attempts == 0  # refused before any provider call
    assert item.last_error_code == "window_closed"
    assert "never written" in (item.last_error or "")
    drain(processor(cauce))
    with cauce.transaction() as s:
        logged = s.scalars(select(Message.status).where(Message.key == item.key)).all()
        failed = s.scalars(select(RuntimeInput.payload).where(
            RuntimeInput.kind == "delivery")).one()
    assert failed["status"] == "failed" and failed["message_key"] == item.key
    # The run is told (a delivery failure for its message key); the conversation log too.
    assert logged == ["failed"]
    delivery.close()


def test_an_effect_without_a_handler_is_a_visible_dead_letter(cauce: Cauce) -> None:
    _start(cauce, [{"send": "hola"}])
    delivery = Delivery(cauce, handlers={})
    delivery.deliver_batch()
    (item,) = _outbox(cauce)
    assert (item.status, item.last_error) == (
        "dead", "no delivery handler for 'message_requested' effects")
    delivery.close()


def test_token_bucket_paces_to_its_rate(cauce: Cauce) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    granted = 0
    with cauce.transaction() as s:
        for tick in range(101):  # ten seconds in steps of 100 ms, always wanting more
            now = start + timedelta(milliseconds=100 * tick)
            granted += ratelimit.take(s, "whatsapp:1", rate=80, burst=8, want=50,
                                      now=now).granted
    # 8 at once, then 80 per second for ten seconds.
    assert granted == 8 + 800


def test_ssrf_guard_refuses_non_public_addresses() -> None:
    def fixed(address: str):  # type: ignore[no-untyped-def]
        return lambda host, port: [address]

    for address in ("127.0.0.1", "10.1.2.3", "192.168.0.10", "169.254.169.254", "::1",
                    "fd00::1", "0.0.0.0", "100.64.0.1"):
        try:
            check_target("http://shop.example/x", [], fixed(address))
        except Refused as exc:
            assert address in str(exc)
        else:
            raise AssertionError(f"{address} was not refused")
    assert check_target("https://api.shop.example/x", [], fixed("93.184.216.34"))[1] == (
        "93.184.216.34")
    assert check_target("http://erp.local/x", ["erp.local"], fixed("10.0.0.5"))[1] == "10.0.0.5"
    for url, why in (("file:///etc/passwd", "only http"), ("http:///x", "no host")):
        try:
            check_target(url, [], fixed("93.184.216.34"))
        except Refused as exc:
            assert why in str(exc)
        else:
            raise AssertionError(url)


class _SlowFirstSend:
    """A provider that takes its time on the first message it is handed, and records the order
    in which messages reach it."""

    def __init__(self) -> None:
        self.arrived: list[str] = []
        self.lock = threading.Lock()
        self.calls = 0

    def route(self, session: object, item: Attempt) -> Route:
        return Route(provider="slow")

    def call(self, item: Attempt, route: Route) -> Outcome:
        with self.lock:
            self.calls += 1
            first = self.calls == 1
        if first:
            time.sleep(0.3)  # a provider answering slowly (real time: delivery runs threads)
        with self.lock:
            self.arrived.append(f"{item.contact_id}:{item.payload['payload']['text']}")
        return Outcome("done", provider_id=item.key)


def test_a_contacts_messages_reach_the_provider_in_order_while_contacts_go_in_parallel(
    cauce: Cauce,
) -> None:
    ws = make_workspace(cauce)
    ana, beto = make_contacts(cauce, ws, 2)
    publish(cauce, ws, {"trigger": {"event": "go"},
                        "steps": [{"send": "uno"}, {"send": "dos"}, {"send": "tres"}]})
    with cauce.transaction() as s:
        for contact in (ana, beto):
            submit_input(s, workspace_id=ws, contact_id=contact,
                         input=EventIn(name="go", occurred_at=T0))
    drain(processor(cauce))
    provider = _SlowFirstSend()
    delivery = Delivery(cauce, handlers={"message_requested": provider})
    assert delivery.deliver_batch() == 6
    delivery.close()
    by_contact = {c: [m.split(":")[1] for m in provider.arrived if m.startswith(f"{c}:")]
                  for c in (ana, beto)}
    # The slow first send held its contact's next messages back, not the other contact's.
    assert by_contact == {ana: ["uno", "dos", "tres"], beto: ["uno", "dos", "tres"]}
    assert provider.arrived[0].startswith(f"{beto}:")


class _FailsFirstCall:
    """A provider whose first answer is a transient error (HTTP 503); it records what reached
    it, in order."""

    def __init__(self) -> None:
        self.arrived: list[str] = []
        self.lock = threading.Lock()

    def route(self, session: object, item: Attempt) -> Route:
        return Route(provider="flaky")

    def call(self, item: Attempt, route: Route) -> Outcome:
        with self.lock:
            self.arrived.append(item.payload["payload"]["text"])
            if len(self.arrived) == 1:
                return Outcome("retry", error="HTTP 503", code="http_503", retry_after=30)
        return Outcome("done", provider_id=item.key)

    def failed_inputs(self, item: Attempt, outcome: Outcome, now: datetime) -> list[object]:
        return []


def _three_messages(cauce: Cauce) -> None:
    _start(cauce, [{"send": "uno"}, {"send": "dos"}, {"send": "tres"}])


def test_a_message_waiting_for_a_retry_is_not_overtaken_by_its_contacts_next_ones(
    cauce: Cauce,
) -> None:
    _three_messages(cauce)
    provider = _FailsFirstCall()
    wall = WallClock()
    delivery = Delivery(cauce, handlers={"message_requested": provider}, wall_clock=wall)
    # One batch holds all three: "uno" fails, so "dos" and "tres" are not called after it...
    assert delivery.deliver_batch() == 3
    assert provider.arrived == ["uno"]
    items = _outbox(cauce)
    assert [(i.status, i.attempts) for i in items] == [
        ("pending", 1), ("pending", 0), ("pending", 0)]  # no attempt used by the held ones
    # ...nor claimed while "uno" waits for its retry...
    assert delivery.deliver_batch() == 0
    assert provider.arrived == ["uno"]
    # ...and once it is due, all three go, in their order.
    wall.now += timedelta(seconds=31)
    assert delivery.deliver_batch() == 3
    assert provider.arrived == ["uno", "uno", "dos", "tres"]
    assert [i.status for i in _outbox(cauce)] == ["done", "done", "done"]
    delivery.close()


def test_a_contacts_next_message_waits_across_batches_for_the_retried_one(
    cauce: Cauce,
) -> None:
    _three_messages(cauce)
    provider = _FailsFirstCall()
    wall = WallClock()
    delivery = Delivery(cauce, DeliveryConfig(batch_size=1),
                        handlers={"message_requested": provider}, wall_clock=wall)
    assert delivery.deliver_batch() == 1  # "uno", which fails
    assert delivery.deliver_batch() == 0  # "dos" is not claimed while "uno" waits
    wall.now += timedelta(seconds=31)
    while delivery.deliver_batch():
        pass
    assert provider.arrived == ["uno", "uno", "dos", "tres"]
    delivery.close()


def test_an_earlier_message_that_sorts_later_is_not_overtaken(cauce: Cauce) -> None:
    # "uno" went back to the queue with a later time than "dos" (or a lower priority, a
    # broadcast): the claim order alone would put "dos" first; a batch of one must not.
    _three_messages(cauce)
    wall = WallClock()
    with cauce.transaction() as s:
        uno, dos, tres = s.scalars(select(OutboxItem).order_by(OutboxItem.id)).all()
        uno.next_attempt_at = wall.now - timedelta(seconds=1)
        dos.next_attempt_at = tres.next_attempt_at = wall.now - timedelta(seconds=5)
    provider = _SlowFirstSend()
    delivery = Delivery(cauce, DeliveryConfig(batch_size=1),
                        handlers={"message_requested": provider}, wall_clock=wall)
    while delivery.deliver_batch():
        pass
    assert [m.split(":")[1] for m in provider.arrived] == ["uno", "dos", "tres"]
    delivery.close()


def test_a_failing_host_opens_its_own_circuit_and_a_good_trial_closes_it(cauce: Cauce) -> None:
    """Five transient failures in a row open the host's circuit: its rows wait without
    spending attempts (saying why), another host's steps go on, and after the cool-down one
    trial goes through; its success closes the circuit."""
    down = {"yes": True}

    def flaky(_m: str, _p: str, _b: bytes) -> tuple[int, dict[str, str], bytes]:
        if down["yes"]:
            return 503, {"content-type": "application/json"}, b'{"error": "down"}'
        return 200, {"content-type": "application/json"}, b'{"ok": true}'

    with serve(flaky) as (bad_url, bad), \
            serve(json_answer(200, {"ok": True})) as (good_url, good):
        ws = make_workspace(cauce, "allowed")
        with cauce.transaction() as s:
            workspace = s.get(Workspace, ws)
            assert workspace is not None
            workspace.settings = {"http_allowed_hosts": ["127.0.0.1"]}
        contacts = make_contacts(cauce, ws, 8)
        publish(cauce, ws, {"trigger": {"event": "bad"}, "steps": [{"http": bad_url}]}, "bad")
        publish(cauce, ws, {"trigger": {"event": "good"}, "steps": [{"http": good_url}]}, "good")
        with cauce.transaction() as s:
            for c in contacts[:6]:
                submit_input(s, workspace_id=ws, contact_id=c,
                             input=EventIn(name="bad", occurred_at=T0))
        drain(processor(cauce))
        wall = WallClock()
        ticks = {"now": 1000.0}
        delivery = Delivery(cauce, DeliveryConfig(batch_size=5, max_attempts=8),
                            handlers={"http_requested": HttpHandler()}, wall_clock=wall)
        delivery.breaker = ratelimit.CircuitBreaker(threshold=5, cooldown=30,
                                                    clock=lambda: ticks["now"])
        before = _counter("cauce_circuit_open_total", provider="http")
        assert delivery.deliver_batch() == 5  # five calls, five 503s: the circuit opens
        assert len(bad.requests) == 5
        assert _counter("cauce_circuit_open_total", provider="http") == before + 1

        # The sixth row and the five retries come due; the host's circuit is open.
        wall.now += timedelta(hours=2)
        with cauce.transaction() as s:
            for c in contacts[6:]:
                submit_input(s, workspace_id=ws, contact_id=c,
                             input=EventIn(name="good", occurred_at=T0))
        drain(processor(cauce))
        called = sum(delivery.deliver_batch() for _ in range(4))
        assert called == 2  # the other host's two steps; nothing to the failing host
        assert len(bad.requests) == 5 and len(good.requests) == 2
        host = bad_url.removeprefix("http://")
        waiting = [i for i in _outbox(cauce) if host in str(i.payload.get("url"))]
        assert sorted(i.attempts for i in waiting) == [0, 1, 1, 1, 1, 1]  # none spent
        for item in waiting:
            assert item.status == "pending"
            assert (item.last_error or "").startswith(
                f"circuit open: http:{host} failed 5 times in a row; next try in ")
            assert item.next_attempt_at <= wall.now + timedelta(seconds=31)

        # Cool-down over, the host is back: one trial; the host's other rows in that batch
        # wait a few seconds for its outcome, not another cool-down.
        down["yes"] = False
        ticks["now"] += 31
        wall.now += timedelta(seconds=31)
        assert delivery.deliver_batch() == 1  # the trial (the batch's other four wait)
        assert delivery.deliver_batch() == 1  # closed again: the sixth row goes at once
        ticks["now"] += 5
        wall.now += timedelta(seconds=5)
        assert delivery.deliver_batch() == 4
        assert len(bad.requests) == 11  # 5 failures, then each of the six rows once
        assert all(i.status == "done" for i in _outbox(cauce))
        delivery.close()


def test_a_trial_that_fails_opens_the_circuit_again() -> None:
    ticks = {"now": 0.0}
    breaker = ratelimit.CircuitBreaker(threshold=2, cooldown=10, trial_wait=3,
                                       clock=lambda: ticks["now"])
    assert not breaker.failure("whatsapp:1")
    assert breaker.failure("whatsapp:1")  # opened
    assert breaker.open_for("whatsapp:1") == 10
    assert breaker.open_for("whatsapp:2") == 0  # another sender is not held back
    ticks["now"] = 10.5
    assert breaker.open_for("whatsapp:1") == 0  # the trial
    assert breaker.open_for("whatsapp:1") == 3  # the others wait for its outcome
    ticks["now"] = 12
    assert breaker.failure("whatsapp:1")  # the trial failed: open for a whole cool-down
    assert breaker.open_for("whatsapp:1") == 10
    ticks["now"] = 22
    assert breaker.open_for("whatsapp:1") == 0  # the next trial
    breaker.success("whatsapp:1")
    assert breaker.open_for("whatsapp:1") == 0 and breaker.open_for("whatsapp:1") == 0
    assert not breaker.failure("whatsapp:1")  # counting starts again from zero


class _Paced:
    """A provider behind a rate bucket of 10 sends/s holding 2 tokens; records what arrives."""

    def __init__(self) -> None:
        self.arrived: list[tuple[int, str]] = []
        self.lock = threading.Lock()

    def route(self, session: object, item: Attempt) -> Route:
        return Route(provider="paced:1", bucket="paced:1", rate=10.0, burst=2.0)

    def call(self, item: Attempt, route: Route) -> Outcome:
        with self.lock:
            self.arrived.append((item.contact_id, item.payload["payload"]["text"]))
        return Outcome("done", provider_id=item.key)

    def failed_inputs(self, item: Attempt, outcome: Outcome, now: object) -> list[object]:
        return []


def test_a_queue_behind_a_rate_limit_is_given_the_tokens_times_not_polled(cauce: Cauce) -> None:
    """40 messages (2 for each of 20 contacts) behind a bucket of 10/s, burst 2: the rows the
    bucket cannot take are put back at the times its tokens return, two per 0.2 s, so each
    is claimed about once more, not at every refill; the loop sleeps until the first of those
    times even though the contacts' second messages are long due; the pace and every
    contact's order hold."""
    ws = make_workspace(cauce)
    contacts = make_contacts(cauce, ws, 20)
    publish(cauce, ws, {"trigger": {"event": "go"}, "steps": [{"send": "uno"}, {"send": "dos"}]})
    with cauce.transaction() as s:
        for contact in contacts:
            submit_input(s, workspace_id=ws, contact_id=contact,
                         input=EventIn(name="go", occurred_at=T0))
    drain(processor(cauce))
    wall = WallClock()
    start = wall.now
    provider = _Paced()
    delivery = Delivery(cauce, handlers={"message_requested": provider}, wall_clock=wall)
    assert delivery.deliver_batch() == 2  # the bucket's two tokens
    queued = sorted(i.next_attempt_at for i in _outbox(cauce)
                    if i.status == "pending" and i.next_attempt_at > start)
    assert len(queued) == 19  # every other contact's first message: back in line
    slots = sorted(set(queued))
    assert len(slots) == 10 and all(queued.count(t) <= 2 for t in slots)
    assert all(b - a == timedelta(seconds=0.2) for a, b in pairwise(slots))
    # Nothing sent: sleep until the first slot, not a 20 ms poll for the due second messages.
    assert delivery.deliver_batch() == 0
    assert delivery.next_wake is not None
    assert delivery.next_wake == pytest.approx((slots[0] - wall.now).total_seconds(), abs=1e-3)

    claims = 0
    while len(provider.arrived) < 40 and claims < 200:
        if delivery.deliver_batch() == 0:
            assert delivery.next_wake is not None and delivery.next_wake >= 0.02
            wall.now += timedelta(seconds=delivery.next_wake)
        claims += 1
    delivery.close()
    assert len(provider.arrived) == 40
    assert claims <= 3 * 20  # about three claims per two-token group, not one per refill
    span = (wall.now - start).total_seconds()
    assert 3.6 <= span <= 4.2  # 38 sends after the first two at 10/s
    for contact in contacts:
        assert [t for c, t in provider.arrived if c == contact] == ["uno", "dos"]
