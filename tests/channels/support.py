"""Helpers for channel API tests: connect channels, sign and post webhooks, read rows."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select

from cauce.channels.whatsapp.webhook import sign
from cauce.services.container import Cauce
from cauce.store.models import Contact, Message, RuntimeInput

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
    body = raw if raw is not None else json.dumps(payload).encode()
    return client.post("/webhooks/whatsapp", content=body, headers={
        "Content-Type": "application/json", "X-Hub-Signature-256": sign(body, secret)})


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
