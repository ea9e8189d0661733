from __future__ import annotations

import json
import threading
import time

from fastapi.testclient import TestClient
from sqlalchemy import select, text

from cauce.services import events
from cauce.services.container import Cauce
from cauce.services.events import sign
from cauce.services.workspaces import DemoCredentials
from cauce.store.models import RuntimeInput

CART = {
    "name": "cart.abandoned",
    "event_id": "cart-1",
    "source": "shop",
    "contact": {"phone": "+5491122334455", "first_name": "Ana"},
    "data": {
        "items": [{"sku": "A", "qty": 2}],
        "total": 25900.0,
        "payment_link": "https://shop.example/pay/1",
    },
}


def test_tickets_with_transcript_context_and_idempotency_key(api: TestClient) -> None:
    contact = api.post("/api/v1/contacts", json={"phone": "+5491122334455"}).json()
    body = {
        "subject": "Reclamo",
        "priority": "high",
        "contact_id": contact["id"],
        "key": "run-1:n5",
        "transcript": [{"direction": "in", "text": "hola, no llegó", "at": "2026-03-02T12:00:00Z"}],
        "context": {"flow_id": 1, "summary": "envío demorado"},
    }
    res = api.post("/api/v1/tickets", json=body)
    assert res.status_code == 201, res.text
    ticket = res.json()
    assert ticket["status"] == "open" and ticket["transcript"][0]["text"] == "hola, no llegó"
    again = api.post("/api/v1/tickets", json=body)
    assert again.status_code == 200 and again.json()["id"] == ticket["id"]
    note = api.post(
        f"/api/v1/tickets/{ticket['id']}/transcript",
        json={"direction": "note", "text": "llamé al correo", "at": "2026-03-02T13:00:00Z"},
    ).json()
    assert [e["direction"] for e in note["transcript"]] == ["in", "note"]
    users = api.get("/api/v1/users").json()["items"]
    closed = api.patch(
        f"/api/v1/tickets/{ticket['id']}",
        json={"status": "solved", "assignee_id": users[0]["id"]},
    ).json()
    assert closed["closed_at"] and closed["assignee_id"] == users[0]["id"]
    assert (
        api.get("/api/v1/tickets", params={"status": "solved"}).json()["items"][0]["id"]
        == (ticket["id"])
    )
    assert api.post("/api/v1/tickets", json={"subject": " "}).status_code == 422
    bad = api.patch(f"/api/v1/tickets/{ticket['id']}", json={"assignee_id": 777})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "assignee_id"
    assert api.delete(f"/api/v1/tickets/{ticket['id']}").status_code == 204


def test_events_api_creates_contact_and_is_idempotent(api: TestClient, cauce: Cauce) -> None:
    res = api.post("/api/v1/events", json=CART)
    assert res.status_code == 202, res.text
    first = res.json()
    assert first["contact_created"] is True and first["duplicate"] is False
    again = api.post("/api/v1/events", json=CART).json()
    assert again["duplicate"] is True and again["contact_id"] == first["contact_id"]
    by_email = api.post(
        "/api/v1/events",
        json={
            **CART,
            "event_id": "cart-2",
            "contact": {"phone": "+54 9 11 2233-4455", "email": "ana@example.com"},
        },
    ).json()
    assert by_email["contact_id"] == first["contact_id"] and by_email["contact_created"] is False
    contact = api.get(f"/api/v1/contacts/{first['contact_id']}").json()
    assert contact["first_name"] == "Ana" and contact["email"] == "ana@example.com"
    assert contact["source"] == "event"
    with cauce.transaction() as session:
        inputs = [
            r.payload for r in session.scalars(select(RuntimeInput).order_by(RuntimeInput.id))
        ]
    carts = [p for p in inputs if p["name"] == "cart.abandoned"]
    assert len(carts) == 2
    assert carts[0]["data"]["payment_link"] == "https://shop.example/pay/1"
    assert carts[0]["event_id"] == "event:shop:cart-1"
    listed = api.get("/api/v1/events", params={"name": "cart.abandoned"}).json()["items"]
    assert [e["event_id"] for e in listed] == ["cart-1", "cart-2"]


def test_a_concurrent_redelivery_of_an_event_is_a_duplicate(
    api: TestClient, cauce: Cauce, demo: DemoCredentials
) -> None:
    """A shop retries while its first delivery is still being stored: the retry waits for it
    and answers "duplicate" (one contact, one input), never an integrity error."""
    event = events.EventSubmit.model_validate(CART)
    answers: list[events.EventAccepted] = []

    def retry() -> None:
        with cauce.transaction() as s:
            answers.append(events.submit_event(s, demo.workspace_id, event, cauce.clock.now()))

    worker = threading.Thread(target=retry)
    with cauce.transaction() as s:
        first = events.submit_event(s, demo.workspace_id, event, cauce.clock.now())
        worker.start()
        if s.get_bind().dialect.name == "postgresql":
            # Commit only once the retry waits on this transaction (the receipt's unique key).
            for _ in range(2000):
                s.execute(text("SELECT pg_stat_clear_snapshot()"))  # stats views are cached
                if s.scalar(text("SELECT count(*) FROM pg_stat_activity "
                                 "WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))")):
                    break
                time.sleep(0.01)
            else:
                raise AssertionError("the retry never waited on the first delivery")
    worker.join(30)
    (answer,) = answers
    assert answer.duplicate is True and answer.contact_id == first.contact_id
    with cauce.transaction() as s:
        assert len(s.scalars(select(RuntimeInput.id)).all()) == 1
    assert [c["id"] for c in api.get("/api/v1/contacts").json()["items"]] == [first.contact_id]


def test_events_api_rejects_bad_input(api: TestClient) -> None:
    res = api.post("/api/v1/events", json={**CART, "contact": {}})
    assert res.status_code == 422 and res.json()["error"]["field"] == "contact.phone"
    res = api.post("/api/v1/events", json={**CART, "name": "Cart Abandoned"})
    assert res.status_code == 422 and res.json()["error"]["field"] == "name"
    res = api.post("/api/v1/events", json={**CART, "contact": {"phone": "abc"}})
    assert res.status_code == 422 and res.json()["error"]["field"] == "phone"


def test_signed_source_requires_a_valid_hmac(api: TestClient) -> None:
    created = api.post("/api/v1/event-sources", json={"name": "shop"})
    assert created.status_code == 201
    secret = created.json()["secret"]
    assert secret and api.get("/api/v1/event-sources").json()["items"][0]["signed"] is True
    raw = json.dumps(CART).encode()
    headers = {"Content-Type": "application/json"}
    unsigned = api.post("/api/v1/events", content=raw, headers=headers)
    assert (
        unsigned.status_code == 401 and "X-Cauce-Signature" in unsigned.json()["error"]["message"]
    )
    wrong = api.post(
        "/api/v1/events", content=raw, headers={**headers, "X-Cauce-Signature": sign("x", raw)}
    )
    assert wrong.status_code == 401
    good = api.post(
        "/api/v1/events", content=raw, headers={**headers, "X-Cauce-Signature": sign(secret, raw)}
    )
    assert good.status_code == 202, good.text
    # another source stays unsigned
    other = api.post("/api/v1/events", json={**CART, "source": "erp"})
    assert other.status_code == 202
    actions = [a["action"] for a in api.get("/api/v1/audit").json()["items"]]
    assert "event_source.created" in actions
    source_id = created.json()["id"]
    assert api.delete(f"/api/v1/event-sources/{source_id}").status_code == 204
