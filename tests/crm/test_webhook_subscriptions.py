"""Outbound webhook subscriptions: CRUD, and events delivered through the outbox to a real
HTTP server on loopback — signed (HMAC-SHA256 over timestamp + body), retried after a 500,
dead-lettered when the retries run out, SSRF-guarded, and isolated between workspaces."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from cauce.engine.types import EventIn
from cauce.runtime.delivery import HANDLERS, Delivery, DeliveryConfig
from cauce.runtime.effects.webhooks import WebhookHandler
from cauce.runtime.engine_port import default_engine
from cauce.runtime.handlers import install_default_handlers
from cauce.runtime.ingest import submit_input
from cauce.runtime.processor import Processor
from cauce.services import flows
from cauce.services import webhook_subscriptions as subs
from cauce.services.auth import Principal, create_api_key
from cauce.services.container import Cauce
from cauce.services.messages import apply_status
from cauce.services.workspaces import DemoCredentials, create_workspace
from cauce.store.models import Contact, OutboxItem, Workspace
from tests.support.fakes.http import FakeServer, Recorded, Reply

ALL = list(subs.EVENTS)


class Receiver(FakeServer):
    """A webhook receiver whose answers are scripted (200 once the script runs out)."""

    def __init__(self, script: list[int] | None = None) -> None:
        super().__init__()
        self.script = list(script or [])

    def handle(self, request: Recorded) -> Reply:
        return Reply(self.script.pop(0) if self.script else 200, {"ok": True})


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as server:
        yield server


class WallClock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def _allow_loopback(cauce: Cauce, workspace_id: int) -> None:
    with cauce.transaction() as s:
        ws = s.get(Workspace, workspace_id)
        assert ws is not None
        ws.settings = {**ws.settings, "http_allowed_hosts": ["127.0.0.1"]}


def _subscribe(api: TestClient, url: str, events: list[str] | None = None,
               key: str | None = None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    res = api.post("/api/v1/webhook-subscriptions", json={"url": url, "events": events or ALL},
                   headers=headers)
    assert res.status_code == 201, res.text
    return dict(res.json())


def _webhook_rows(cauce: Cauce) -> list[OutboxItem]:
    with cauce.transaction() as s:
        return list(s.scalars(select(OutboxItem).where(OutboxItem.kind == subs.OUTBOX_KIND)
                              .order_by(OutboxItem.id)))


def _deliver(cauce: Cauce, config: DeliveryConfig | None = None,
             wall: WallClock | None = None) -> int:
    delivery = Delivery(cauce, config, handlers={subs.OUTBOX_KIND: WebhookHandler()},
                        wall_clock=wall)
    try:
        total = 0
        while n := delivery.deliver_batch():
            total += n
        return total
    finally:
        delivery.close()


def _check_signature(request: Recorded, secret: str) -> None:
    ts = request.headers["x-cauce-timestamp"]
    assert request.headers["x-cauce-signature"].startswith("sha256=")
    assert subs.verify(secret, ts, request.body, request.headers["x-cauce-signature"],
                       now=time.time())
    # Any change to the body or the timestamp breaks it, and an old timestamp is refused.
    assert not subs.verify(secret, ts, request.body + b" ", request.headers["x-cauce-signature"],
                           now=time.time())
    assert not subs.verify("whsec_other", ts, request.body,
                           request.headers["x-cauce-signature"], now=time.time())
    assert not subs.verify(secret, ts, request.body, request.headers["x-cauce-signature"],
                           now=time.time() + 3600)


def test_crud_shows_the_secret_once_and_validates(api: TestClient) -> None:
    created = _subscribe(api, "https://hooks.example.com/cauce", ["contact.created"])
    assert created["secret"].startswith("whsec_") and created["active"] is True
    sub_id = created["id"]
    got = api.get(f"/api/v1/webhook-subscriptions/{sub_id}").json()
    assert "secret" not in got and got["events"] == ["contact.created"]
    listed = api.get("/api/v1/webhook-subscriptions").json()
    assert [s["id"] for s in listed["items"]] == [sub_id] and listed["next_cursor"] is None
    res = api.patch(f"/api/v1/webhook-subscriptions/{sub_id}",
                    json={"active": False, "events": ["ticket.opened", "message.failed"]})
    assert res.status_code == 200 and res.json()["active"] is False
    assert res.json()["events"] == ["ticket.opened", "message.failed"]
    rotated = api.post(f"/api/v1/webhook-subscriptions/{sub_id}/rotate-secret").json()
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != created["secret"]
    bad = api.post("/api/v1/webhook-subscriptions",
                   json={"url": "https://x.example", "events": ["contact.deleted"]})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "events"
    bad = api.post("/api/v1/webhook-subscriptions",
                   json={"url": "ftp://x.example/a", "events": ["contact.created"]})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "url"
    bad = api.post("/api/v1/webhook-subscriptions",
                   json={"url": "http://[::1/x", "events": ["contact.created"]})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "url"
    bad = api.post("/api/v1/webhook-subscriptions", json={"url": "https://x.example",
                                                          "events": []})
    assert bad.status_code == 422
    assert api.delete(f"/api/v1/webhook-subscriptions/{sub_id}").status_code == 204
    assert api.get(f"/api/v1/webhook-subscriptions/{sub_id}").status_code == 404


def test_crm_events_are_delivered_signed_to_a_real_server(
    api: TestClient, cauce: Cauce, demo: DemoCredentials, receiver: Receiver,
) -> None:
    _allow_loopback(cauce, demo.workspace_id)
    sub = _subscribe(api, f"{receiver.url}/hooks")
    contact = api.post("/api/v1/contacts", json={"email": "ana@example.com",
                                                 "name": "Ana"}).json()
    api.patch(f"/api/v1/contacts/{contact['id']}", json={"name": "Ana Pérez"})
    api.patch(f"/api/v1/contacts/{contact['id']}", json={"name": "Ana Pérez"})  # no change
    api.post("/api/v1/pipelines", json={"name": "Ventas", "stages": ["Nuevo", "Ganado"]})
    opp = api.post("/api/v1/opportunities", json={"contact_id": contact["id"],
                                                  "pipeline": "Ventas", "value": 100}).json()
    api.patch(f"/api/v1/opportunities/{opp['id']}", json={"status": "won"})
    api.post("/api/v1/tickets", json={"subject": "No puedo entrar",
                                      "contact_id": contact["id"]})
    assert _deliver(cauce) == 5
    hooks = receiver.requests_to("/hooks")
    events = sorted(r.headers["x-cauce-event"] for r in hooks)
    assert events == ["contact.created", "contact.updated", "opportunity.changed",
                      "opportunity.changed", "ticket.opened"]
    assert len(hooks) == 5
    for request in hooks:
        _check_signature(request, sub["secret"])
        body = request.json()
        assert body["event"] == request.headers["x-cauce-event"]
        assert body["workspace_id"] == demo.workspace_id
        assert request.headers["x-cauce-delivery"].startswith(f"webhook:{sub['id']}:")
    by_event = {r.headers["x-cauce-event"]: r.json()["data"] for r in hooks}
    assert by_event["contact.created"]["email"] == "ana@example.com"
    assert by_event["contact.updated"]["name"] == "Ana Pérez"
    assert by_event["ticket.opened"]["subject"] == "No puedo entrar"
    won = [r.json()["data"] for r in hooks if r.headers["x-cauce-event"] == "opportunity.changed"]
    # Deliveries run concurrently, so arrival order is not creation order.
    assert sorted((w["change"], w["from_status"], w["moved_to_status"]) for w in won) == [
        ("created", None, "open"), ("updated", "open", "won")]
    assert all(r.status == "done" for r in _webhook_rows(cauce))


def test_only_subscribed_events_and_active_subscriptions_are_queued(
    api: TestClient, cauce: Cauce,
) -> None:
    tickets_only = _subscribe(api, "https://hooks.example.com/t", ["ticket.opened"])
    paused = _subscribe(api, "https://hooks.example.com/p", ALL)
    api.patch(f"/api/v1/webhook-subscriptions/{paused['id']}", json={"active": False})
    api.post("/api/v1/contacts", json={"email": "bea@example.com"})
    api.post("/api/v1/tickets", json={"subject": "Ayuda"})
    rows = _webhook_rows(cauce)
    assert [(r.payload["subscription_id"], r.payload["event"]) for r in rows] == [
        (tickets_only["id"], "ticket.opened")]


def test_a_500_is_retried_with_backoff_then_delivered(
    api: TestClient, cauce: Cauce, demo: DemoCredentials,
) -> None:
    _allow_loopback(cauce, demo.workspace_id)
    with Receiver([500, 503]) as server:
        sub = _subscribe(api, f"{server.url}/hooks", ["contact.created"])
        api.post("/api/v1/contacts", json={"email": "cai@example.com"})
        wall = WallClock()
        config = DeliveryConfig(max_attempts=5, backoff_base=10.0)
        assert _deliver(cauce, config, wall) == 1
        (row,) = _webhook_rows(cauce)
        assert (row.status, row.attempts, row.last_error_code) == ("pending", 1, "http_500")
        assert row.next_attempt_at >= wall.now + timedelta(seconds=4)
        assert _deliver(cauce, config, wall) == 0  # not due yet
        wall.now += timedelta(seconds=30)
        assert _deliver(cauce, config, wall) == 1
        wall.now += timedelta(seconds=60)
        assert _deliver(cauce, config, wall) == 1
        (row,) = _webhook_rows(cauce)
        assert (row.status, row.attempts) == ("done", 3)
        hooks = server.requests_to("/hooks")
        assert len(hooks) == 3
        # Every retry carries the same delivery id and body, each freshly signed.
        assert len({r.headers["x-cauce-delivery"] for r in hooks}) == 1
        assert len({r.body for r in hooks}) == 1
        for request in hooks:
            _check_signature(request, sub["secret"])


def test_exhausted_retries_become_a_dead_letter_and_a_4xx_is_final(
    api: TestClient, cauce: Cauce, demo: DemoCredentials,
) -> None:
    _allow_loopback(cauce, demo.workspace_id)
    with Receiver([500, 500, 401]) as server:
        _subscribe(api, f"{server.url}/hooks", ["ticket.opened"])
        api.post("/api/v1/tickets", json={"subject": "Uno"})
        wall = WallClock()
        config = DeliveryConfig(max_attempts=2, backoff_base=1.0)
        assert _deliver(cauce, config, wall) == 1
        wall.now += timedelta(seconds=10)
        assert _deliver(cauce, config, wall) == 1
        (row,) = _webhook_rows(cauce)
        assert row.status == "dead"
        assert row.last_error == "gave up after 2 attempts: HTTP 500"
        # The receiver refusing (401: bad signature on its side) is final at once.
        api.post("/api/v1/tickets", json={"subject": "Dos"})
        assert _deliver(cauce, config, wall) == 1
        rows = _webhook_rows(cauce)
        assert (rows[1].status, rows[1].attempts, rows[1].last_error_code) == (
            "dead", 1, "http_401")
        assert len(server.requests_to("/hooks")) == 3
    # Dead letters are visible in the API with their reason, and can be retried.
    dead = api.get("/api/v1/dead-letters").json()["items"]
    assert {d["kind"] for d in dead} == {subs.OUTBOX_KIND}


def test_a_post_redirect_get_answer_counts_as_delivered(
    api: TestClient, cauce: Cauce, demo: DemoCredentials,
) -> None:
    """Google Apps Script web apps answer every POST with a 302 after running doPost."""
    _allow_loopback(cauce, demo.workspace_id)
    with Receiver([302, 301]) as server:
        _subscribe(api, f"{server.url}/exec?token=t0k3n", ["ticket.opened"])
        api.post("/api/v1/tickets", json={"subject": "Uno"})
        assert _deliver(cauce) == 1
        api.post("/api/v1/tickets", json={"subject": "Dos"})
        assert _deliver(cauce) == 1
        first, second = _webhook_rows(cauce)
        assert first.status == "done"
        # A permanent redirect is a wrong URL, not a delivery; it is never followed.
        assert (second.status, second.last_error_code) == ("dead", "http_301")
        hooks = server.requests_to("/exec")
        assert len(hooks) == 2 and hooks[0].query == {"token": ["t0k3n"]}


def test_private_addresses_are_refused_unless_the_workspace_allows_them(
    api: TestClient, cauce: Cauce, receiver: Receiver,
) -> None:
    _subscribe(api, f"{receiver.url}/hooks", ["contact.created"])
    api.post("/api/v1/contacts", json={"email": "dan@example.com"})
    assert _deliver(cauce) == 1
    (row,) = _webhook_rows(cauce)
    assert row.status == "dead" and "non-public address 127.0.0.1" in (row.last_error or "")
    assert receiver.requests == []


def test_workspaces_are_isolated(
    api: TestClient, cauce: Cauce, demo: DemoCredentials, receiver: Receiver,
) -> None:
    with cauce.transaction() as s:
        ws_b = create_workspace(s, "other", "Other", cauce.clock.now())
        key_b = create_api_key(s, ws_b.id, "b", cauce.clock.now(), role="owner").key
        b_id = ws_b.id
    _allow_loopback(cauce, demo.workspace_id)
    _allow_loopback(cauce, b_id)
    sub_a = _subscribe(api, f"{receiver.url}/a", ["contact.created"])
    sub_b = _subscribe(api, f"{receiver.url}/b", ["contact.created"], key=key_b)
    hb = {"Authorization": f"Bearer {key_b}"}
    assert api.get(f"/api/v1/webhook-subscriptions/{sub_b['id']}").status_code == 404
    assert api.patch(f"/api/v1/webhook-subscriptions/{sub_b['id']}",
                     json={"active": False}).status_code == 404
    assert api.delete(f"/api/v1/webhook-subscriptions/{sub_b['id']}").status_code == 404
    assert [s["id"] for s in api.get("/api/v1/webhook-subscriptions").json()["items"]] == [
        sub_a["id"]]
    api.post("/api/v1/contacts", json={"email": "a@example.com"})
    api.post("/api/v1/contacts", json={"email": "b@example.com"}, headers=hb)
    assert _deliver(cauce) == 2
    a_bodies = [r.json() for r in receiver.requests_to("/a")]
    b_bodies = [r.json() for r in receiver.requests_to("/b")]
    assert [b["data"]["email"] for b in a_bodies] == ["a@example.com"]
    assert [b["data"]["email"] for b in b_bodies] == ["b@example.com"]
    _check_signature(receiver.requests_to("/a")[0], sub_a["secret"])
    _check_signature(receiver.requests_to("/b")[0], sub_b["secret"])


def test_goal_reached_and_failed_messages_are_published(
    cauce: Cauce, demo: DemoCredentials, api: TestClient, receiver: Receiver,
) -> None:
    ws = demo.workspace_id
    _allow_loopback(cauce, ws)
    sub = _subscribe(api, f"{receiver.url}/hooks", ["flow.goal_reached", "message.failed"])
    document = {
        "format": 1, "metadata": {"name": "goal", "language": "es"},
        "triggers": [{"type": "business_event", "event": "go"}],
        "settings": {"goal": {"condition": {"rules": [
            {"field": "contact.tags", "operator": "contains", "value": "compró"}]},
            "node": "won"}},
        "nodes": [
            {"id": "hello", "type": "whatsapp_template",
             "config": {"name": "bienvenida", "language": "es"},
             "exits": {"next": "tag", "failed": None}},
            {"id": "tag", "type": "add_tag", "config": {"tags": ["compró"]},
             "exits": {"next": "more"}},
            {"id": "more", "type": "add_tag", "config": {"tags": ["otro"]},
             "exits": {"next": None}},
            {"id": "won", "type": "end", "config": {"reason": "converted"}, "exits": {}},
        ],
    }
    principal = Principal(workspace_id=ws, actor="user:1", role="owner")
    now = cauce.clock.now()
    with cauce.transaction() as s:
        flow = flows.create_flow(s, principal, document, now)
        flows.publish(s, principal, flow.id, now)
        flow_id = flow.id
    contact_id = api.post("/api/v1/contacts", json={"phone": "+5491122334455"}).json()["id"]
    with cauce.transaction() as s:
        submit_input(s, workspace_id=ws, contact_id=contact_id,
                     input=EventIn(name="go", occurred_at=now))
    processor = Processor(cauce, default_engine())
    while processor.process_batch():
        pass
    install_default_handlers()
    delivery = Delivery(cauce, handlers=dict(HANDLERS))
    try:
        for _ in range(20):
            while processor.process_batch():
                pass
            if not delivery.deliver_batch():
                break
    finally:
        delivery.close()
    goals = [r.json() for r in receiver.requests_to("/hooks")
             if r.headers["x-cauce-event"] == "flow.goal_reached"]
    assert len(goals) == 1
    assert goals[0]["data"]["flow_id"] == flow_id
    assert goals[0]["data"]["contact_id"] == contact_id
    assert goals[0]["data"]["node_id"] == "won"
    # A "failed" status webhook for the message the flow sent publishes message.failed.
    with cauce.transaction() as s:
        from cauce.store.models import Message

        message = s.scalars(select(Message).where(Message.direction == "out")).one()
        applied = apply_status(s, workspace_id=ws, status="failed", key=message.key,
                               at=cauce.clock.now(), error_code="131026",
                               error_reason="undeliverable")
        assert applied is not None and applied.new
        # The same status again (a webhook redelivery) publishes nothing more.
        apply_status(s, workspace_id=ws, status="failed", key=message.key,
                     at=cauce.clock.now(), error_code="131026")
    assert _deliver(cauce) == 1
    failed = [r for r in receiver.requests_to("/hooks")
              if r.headers["x-cauce-event"] == "message.failed"]
    assert len(failed) == 1
    _check_signature(failed[0], sub["secret"])
    data = json.loads(failed[0].body)["data"]
    assert (data["error_code"], data["contact_id"], data["node_id"]) == (
        "131026", contact_id, "hello")
    with cauce.transaction() as s:
        assert s.get(Contact, contact_id) is not None


def test_a_csv_import_publishes_created_and_changed_contacts(api: TestClient, cauce: Cauce) -> None:
    _subscribe(api, "https://hooks.example.com/i", ["contact.created", "contact.updated"])

    def upload(text: str) -> None:
        res = api.post("/api/v1/contacts/imports",
                       files={"file": ("c.csv", text.encode(), "text/csv")},
                       data={"mapping": json.dumps({"email": "email", "name": "name"})})
        assert res.status_code == 202, res.text

    upload("email,name\nana@example.com,Ana\nbea@example.com,Bea\n")
    upload("email,name\nana@example.com,Ana\nbea@example.com,Beatriz\n")  # only Bea changed
    queued = [(r.payload["event"], json.loads(r.payload["body"])["data"]["name"])
              for r in _webhook_rows(cauce)]
    assert queued == [("contact.created", "Ana"), ("contact.created", "Bea"),
                      ("contact.updated", "Beatriz")]
