"""Helpers for channel API tests: connect channels, sign and post webhooks, read rows."""

from __future__ import annotations

import json
import time
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select

from cauce.channels.whatsapp.webhook import sign
from cauce.runtime import webhook_inbox
from cauce.services.container import Cauce
from cauce.store.models import Contact, InboundWebhook, Message, RuntimeInput

PHONE_NUMBER_ID = "106540352242922"
APP_SECRET = "app-secret-123"
VERIFY_TOKEN = "verify-me-456"
WA_ID = "16505551234"


def connect_whatsapp(api: TestClient, graph_url: str, *, phone_number_id: str = PHONE_NUMBER_ID,
                     app_secret: str = APP_SECRET, name: str = "Ventas") -> dict[str, Any]:
    response = api.post("/api/v1/channels", json={
        "kind": "whatsapp", "name": name,
        "config": {"phone_number_id": phone_number_id, "waba_id": "102290129340398",
                   "graph_base_url": graph_url, "graph_version": "v23.0"},
        "secrets": {"access_token": "EAAG-token", "app_secret": app_secret,
                    "verify_token": VERIFY_TOKEN}})
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def post_signed(client: TestClient, payload: Any, secret: str = APP_SECRET,
                raw: bytes | None = None) -> Response:
    """Post a signed WhatsApp webhook; once it is stored (200), parse it as the runtime does
    right after, so the caller sees its contacts, messages and inputs."""
    body = raw if raw is not None else json.dumps(payload).encode()
    response = client.post("/webhooks/whatsapp", content=body, headers={
        "Content-Type": "application/json", "X-Hub-Signature-256": sign(body, secret)})
    if response.status_code == 200:
        webhook_outcome(client, response)
    return response


def webhook_outcome(client: TestClient, response: Response) -> dict[str, Any]:
    """What the runtime did with a stored webhook (``messages``, ``statuses``, ``duplicates``,
    ``ignored``, ``problems``), draining the stored webhooks until this one is settled (an
    embedded runtime may be draining them at the same moment)."""
    cauce: Cauce = client.app.state.cauce  # type: ignore[attr-defined]
    webhook_id = response.json()["webhook_id"]
    deadline = time.monotonic() + 20
    while True:
        webhook_inbox.drain(cauce)
        with cauce.transaction() as session:
            row = session.get(InboundWebhook, webhook_id)
            assert row is not None, f"webhook {webhook_id} was not stored"
            if row.status != "pending":
                assert row.result is not None
                return row.result
        assert time.monotonic() < deadline, f"webhook {webhook_id} was never parsed"
        time.sleep(0.01)


def messages(cauce: Cauce) -> list[Message]:
    with cauce.transaction() as session:
        return list(session.scalars(select(Message).order_by(Message.id)))


def inputs(cauce: Cauce) -> list[RuntimeInput]:
    with cauce.transaction() as session:
        return list(session.scalars(select(RuntimeInput).order_by(RuntimeInput.id)))


def contact_by_phone(cauce: Cauce, phone: str) -> Contact:
    with cauce.transaction() as session:
        row = session.scalar(select(Contact).where(Contact.phone == phone))
        assert row is not None
        return row
