"""Runs, dead letters, the virtual clock and /metrics over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from sqlalchemy import select, update

from cauce.api.app import create_app
from cauce.clock import RealClock
from cauce.engine.types import EventIn
from cauce.runtime.delivery import Attempt, Delivery, DeliveryConfig, Outcome, Route
from cauce.runtime.handlers import MessageHandler
from cauce.runtime.ingest import submit_input
from cauce.services.container import Cauce
from cauce.services.workspaces import DemoCredentials, ensure_demo
from cauce.settings import load_settings
from cauce.store.models import Contact, Message, OutboxItem
from tests.conftest import T0
from tests.runtime.fake_engine import FakeEngine
from tests.runtime.support import drain, make_contacts, processor, publish

WEEK = 7 * 86400


def _start_runs(cauce: Cauce, workspace_id: int, n: int, steps: list[dict[str, object]]) -> int:
    contacts = make_contacts(cauce, workspace_id, n)
    flow_id = publish(cauce, workspace_id, {"trigger": {"event": "go"}, "steps": steps})
    with cauce.transaction() as s:
        for c in contacts:
            submit_input(s, workspace_id=workspace_id, contact_id=c,
                         input=EventIn(name="go", occurred_at=T0))
    drain(processor(cauce))
    return flow_id


def test_runs_are_listed_filtered_paginated_and_inspected(
    api: TestClient, cauce: Cauce, demo: DemoCredentials
) -> None:
    flow_id = _start_runs(cauce, demo.workspace_id, 3, [{"send": "hola"}, {"wait": WEEK}])
    page = api.get("/api/v1/runs", params={"limit": 2, "status": "waiting"}).json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = api.get("/api/v1/runs", params={"limit": 2, "status": "waiting",
                                           "cursor": page["next_cursor"]}).json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    ids = {r["id"] for r in page["items"] + rest["items"]}
    assert len(ids) == 3
    run = page["items"][0]
    assert (run["flow_id"], run["waiting_for"], run["node_id"]) == (flow_id, "timer", "s1")
    assert api.get("/api/v1/runs", params={"flow_id": flow_id + 1}).json()["items"] == []
    contact_runs = api.get("/api/v1/runs", params={"contact_id": run["contact_id"]}).json()
    assert [r["id"] for r in contact_runs["items"]] == [run["id"]]

    detail = api.get(f"/api/v1/runs/{run['id']}").json()
    (step,) = detail["steps"]
    assert step["input_kind"] == "event" and step["input"]["name"] == "go"
    assert [e["type"] for e in step["output"]] == [
        "run_started", "step_entered", "message_requested", "exit_taken", "step_entered",
        "wait_started"]
    assert detail["state"]["wait"]["kind"] == "timer"

    bad = api.get("/api/v1/runs", params={"status": "sleeping"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "status"
    missing = api.get("/api/v1/runs/nope")
    assert missing.status_code == 404 and "nope" in missing.json()["error"]["message"]


def test_dead_letters_are_listed_and_retried(
    api: TestClient, cauce: Cauce, demo: DemoCredentials
) -> None:
    _start_runs(cauce, demo.workspace_id, 1, [{"send": "hola"}])
    delivery = Delivery(cauce, handlers={})
    delivery.deliver_batch()
    delivery.close()
    (dead,) = api.get("/api/v1/dead-letters").json()["items"]
    assert dead["reason"] == "no delivery handler for 'message_requested' effects"
    assert dead["kind"] == "message_requested" and dead["payload"]["payload"]["text"] == "hola"
    retried = api.post(f"/api/v1/dead-letters/{dead['id']}/retry")
    assert retried.status_code == 200 and retried.json()["status"] == "pending"
    again = api.post(f"/api/v1/dead-letters/{dead['id']}/retry")
    assert again.status_code == 409 and "not a dead letter" in again.json()["error"]["message"]
    assert api.get("/api/v1/dead-letters").json()["items"] == []
    assert api.post("/api/v1/dead-letters/999/retry").status_code == 404
    with cauce.transaction() as s:
        assert s.scalars(select(OutboxItem.status)).one() == "pending"


def test_a_retried_dead_message_is_shown_by_its_new_outcome(
    api: TestClient, cauce: Cauce, demo: DemoCredentials
) -> None:
    """The conversation log said "failed"; after the retry it says what happened next."""
    (contact,) = make_contacts(cauce, demo.workspace_id, 1)
    with cauce.transaction() as s:
        s.execute(update(Contact).where(Contact.id == contact).values(phone=None))
        submit_input(s, workspace_id=demo.workspace_id, contact_id=contact,
                     input=EventIn(name="go", occurred_at=T0))
    publish(cauce, demo.workspace_id,
            {"trigger": {"event": "go"}, "steps": [{"template": "pedido_despachado"}]})
    drain(processor(cauce))
    delivery = Delivery(cauce, handlers={"message_requested": MessageHandler()})
    delivery.deliver_batch()
    (dead,) = api.get("/api/v1/dead-letters").json()["items"]
    assert (dead["code"], dead["reason"]) == ("no_address",
                                              "the contact has no address for simulator")
    with cauce.transaction() as s:
        failed = s.scalars(select(Message).where(Message.key == dead["key"])).one()
        assert (failed.status, failed.error_code) == ("failed", "no_address")
        s.execute(update(Contact).where(Contact.id == contact).values(phone="+5491100000001"))
    assert api.post(f"/api/v1/dead-letters/{dead['id']}/retry").status_code == 200
    with cauce.transaction() as s:
        queued = s.scalars(select(Message).where(Message.key == dead["key"])).one()
        assert (queued.status, queued.failed_at, queued.error_code) == ("queued", None, None)
    delivery.deliver_batch()
    delivery.close()
    with cauce.transaction() as s:
        assert s.scalars(select(OutboxItem.status)).one() == "done"
        sent = s.scalars(select(Message).where(Message.key == dead["key"])).one()
        assert (sent.status, sent.failed_at, sent.error_reason) == ("sent", None, None)


def test_advancing_the_virtual_clock_fires_timers_in_between(
    api: TestClient, cauce: Cauce, demo: DemoCredentials
) -> None:
    cauce.extras["flow_engine"] = FakeEngine()
    _start_runs(cauce, demo.workspace_id, 5, [{"wait": 3600}, {"send": "1h"}, {"wait": 3600},
                                              {"send": "2h"}])
    answer = api.post("/api/v1/sim/clock/advance", json={"seconds": 3 * 3600})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["mode"] == "virtual" and body["timers_fired"] == 10
    assert body["now"].startswith("2026-03-02T15:00:00")
    assert api.get("/api/v1/runs", params={"status": "completed"}).json()["items"]
    assert api.get("/api/v1/sim/clock").json()["now"].startswith("2026-03-02T15:00:00")
    bad = api.post("/api/v1/sim/clock/advance", json={"seconds": -5})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "seconds"


@pytest.fixture
def real_api(db_url: str, tmp_path: Path) -> Iterator[TestClient]:
    settings = load_settings(database_url=db_url, secret_key="test-secret-key-0123456789",
                             data_dir=tmp_path, clock="real")
    cauce = Cauce.open(settings, clock=RealClock())
    with cauce.transaction() as s:
        creds = ensure_demo(s, cauce.clock.now())
    assert creds is not None
    with TestClient(create_app(settings, cauce=cauce)) as client:
        client.headers["Authorization"] = f"Bearer {creds.api_key}"
        yield client
    cauce.close()


def test_the_real_clock_cannot_be_advanced(real_api: TestClient) -> None:
    answer = real_api.post("/api/v1/sim/clock/advance", json={"seconds": 60})
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "real_clock"
    assert "CAUCE_CLOCK=virtual" in answer.json()["error"]["message"]
    assert real_api.get("/api/v1/sim/clock").json()["mode"] == "real"


def test_metrics_are_exposed_for_prometheus(api: TestClient, cauce: Cauce,
                                            demo: DemoCredentials) -> None:
    _start_runs(cauce, demo.workspace_id, 2, [{"send": "hola"}, {"wait": 60}])
    text = api.get("/metrics").text
    assert 'cauce_outbox_depth{status="pending"} 2.0' in text
    assert "cauce_timers_waiting 2.0" in text
    assert "cauce_inputs_processed_total" in text
    assert "cauce_input_lag_seconds_bucket" in text
    # Every family issue 4 names: inputs/s and their lag, timers due and late, outbox depth,
    # sends by channel and status, retries, dead letters, per-contact lock waits.
    for family, kind in [
        ("cauce_inputs_processed_total", "counter"), ("cauce_input_lag_seconds", "histogram"),
        ("cauce_inputs_pending", "gauge"), ("cauce_inputs_oldest_seconds", "gauge"),
        ("cauce_timers_due", "gauge"), ("cauce_timer_lateness_seconds", "histogram"),
        ("cauce_timers_fired_total", "counter"), ("cauce_outbox_depth", "gauge"),
        ("cauce_sends_total", "counter"), ("cauce_delivery_retries_total", "counter"),
        ("cauce_dead_letters_total", "counter"), ("cauce_contact_lock_waits_total", "counter"),
        ("cauce_circuit_open_total", "counter"), ("cauce_rate_limited_total", "counter"),
        ("cauce_webhooks_pending", "gauge"),
    ]:
        assert f"# TYPE {family} {kind}" in text, family

    # Two sends that fail: the first attempt is a retry, the second a dead letter; the
    # counters move by exactly that.
    class Down:
        def route(self, session: object, item: Attempt) -> Route:
            return Route(provider="test:down")

        def call(self, item: Attempt, route: Route) -> Outcome:
            return Outcome("retry", error="HTTP 503", code="http_503")

        def failed_inputs(self, item: Attempt, outcome: Outcome, now: object) -> list[object]:
            return []

    def sample(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    channel = {"channel": "whatsapp"}
    before = (sample("cauce_sends_total", status="retry", **channel),
              sample("cauce_delivery_retries_total", **channel),
              sample("cauce_dead_letters_total", **channel))
    wall = [datetime.now(UTC)]
    delivery = Delivery(cauce, DeliveryConfig(max_attempts=2),
                        handlers={"message_requested": Down()}, wall_clock=lambda: wall[0])
    assert delivery.deliver_batch() == 2
    wall[0] += timedelta(hours=1)
    assert delivery.deliver_batch() == 2
    delivery.close()
    after = (sample("cauce_sends_total", status="retry", **channel),
             sample("cauce_delivery_retries_total", **channel),
             sample("cauce_dead_letters_total", **channel))
    assert [a - b for a, b in zip(after, before, strict=True)] == [4, 2, 2]
    text = api.get("/metrics").text
    assert 'cauce_outbox_depth{status="dead"} 2.0' in text
    assert 'cauce_sends_total{channel="whatsapp",status="retry"}' in text
