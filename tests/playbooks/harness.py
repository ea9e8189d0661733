"""End-to-end harness for the playbook templates, through HTTP only.

The app runs with the embedded runtime (workers, scheduler, delivery: what ``cauce serve``
runs) on the virtual clock. Inputs go in as signed WhatsApp webhooks, events API calls,
opportunity changes and agents' replies through the inbox API; outputs are what the fake Graph
API, the aiosmtpd server, the fake Twilio and ``partner`` (a CRM/ERP/sheet API on loopback that
the flows' HTTP request steps call) received. ``advance`` moves virtual time over the flows'
waits through ``POST /api/v1/sim/clock/advance``."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from typing import Any, TypeVar

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

from cauce.api.app import create_app
from cauce.channels import registry
from cauce.runtime.runner import embedded_start_hook
from cauce.services.container import Cauce
from cauce.services.workspaces import DemoCredentials
from cauce.settings import Settings
from cauce.store.models import Workspace
from tests.channels.support import PHONE_NUMBER_ID, WA_ID, connect_whatsapp, post_signed
from tests.channels.test_email import Inbox, _port
from tests.support.fakes.graph_api import FakeGraphApi
from tests.support.fakes.http import FakeServer, Recorded, Reply
from tests.support.fakes.twilio import FakeTwilio

T = TypeVar("T")
PHONE = f"+{WA_ID}"
SETTLE_SECONDS = 20.0


class Partner(FakeServer):
    """A business system's HTTP API (a CRM lookup, an ERP or sheet webhook): records every
    request and answers with ``answer(request)`` (200 ``{"ok": true}`` by default)."""

    def __init__(self) -> None:
        super().__init__()
        self.answer: Callable[[Recorded], Reply] = lambda request: Reply(200, {"ok": True})

    def handle(self, request: Recorded) -> Reply:
        return self.answer(request)


@dataclass
class World:
    api: TestClient
    graph: FakeGraphApi
    twilio: FakeTwilio
    smtp: Inbox
    partner: Partner
    _wamid: int = field(default=0)

    # ------------------------------------------------------------------ inputs

    def flow(self, template_id: str, **parameters: Any) -> dict[str, Any]:
        response = self.api.post("/api/v1/flows/from-template", json={
            "template_id": template_id, "parameters": parameters, "publish": True})
        assert response.status_code == 201, response.text
        data: dict[str, Any] = response.json()
        return data

    def contact(self, **fields: Any) -> dict[str, Any]:
        body = {"phone": PHONE, "first_name": "Ana", "last_name": "Pérez",
                "email": "ana@example.com", **fields}
        response = self.api.post("/api/v1/contacts", json=body)
        assert response.status_code == 201, response.text
        data: dict[str, Any] = response.json()
        return data

    def _inbound(self, message: dict[str, Any], wa_id: str = WA_ID,
                 name: str = "Ana Pérez") -> str:
        self._wamid += 1
        wamid = f"wamid.in{self._wamid:06d}"
        now = datetime.fromisoformat(self.api.get("/api/v1/sim/clock").json()["now"])
        payload = {"object": "whatsapp_business_account", "entry": [{
            "id": "102290129340398", "changes": [{"field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "15550783881",
                             "phone_number_id": PHONE_NUMBER_ID},
                "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
                "messages": [{"from": wa_id, "id": wamid, "timestamp": str(int(now.timestamp())),
                              **message}]}}]}]}
        response = post_signed(self.api, payload)
        assert response.status_code == 200, response.text
        return wamid

    def say(self, text: str, *, wa_id: str = WA_ID, name: str = "Ana Pérez",
            **extra: Any) -> str:
        """A WhatsApp text from ``wa_id`` (``extra``: more message fields, e.g. the
        ``referral`` of a click-to-WhatsApp ad)."""
        return self._inbound({"type": "text", "text": {"body": text}, **extra}, wa_id, name)

    def tap(self, button_id: str, title: str) -> str:
        """A reply button of an interactive message."""
        return self._inbound({"type": "interactive", "interactive": {
            "type": "button_reply", "button_reply": {"id": button_id, "title": title}}})

    def tap_template(self, payload: str, text: str) -> str:
        """A quick-reply button of a template."""
        return self._inbound({"type": "button", "button": {"payload": payload, "text": text}})

    def event(self, name: str, data: dict[str, Any] | None = None,
              contact: dict[str, Any] | None = None) -> dict[str, Any]:
        self._wamid += 1
        response = self.api.post("/api/v1/events", json={
            "name": name, "event_id": f"ev-{self._wamid}", "data": data or {},
            "contact": contact or {"phone": PHONE}})
        assert response.status_code == 202, response.text
        out: dict[str, Any] = response.json()
        return out

    def agent_reply(self, phone: str, text: str) -> dict[str, Any]:
        """A person answers the contact's open conversation from the inbox."""
        (conversation,) = self.conversations(phone)
        response = self.api.post(f"/api/v1/inbox/conversations/{conversation['id']}/reply",
                                 json={"text": text})
        assert response.status_code == 202, response.text
        data: dict[str, Any] = response.json()
        return data

    def advance(self, seconds: float) -> None:
        response = self.api.post("/api/v1/sim/clock/advance", json={"seconds": seconds})
        assert response.status_code == 200, response.text

    # ------------------------------------------------------------------ outputs

    def wait_for(self, what: Callable[[], T], message: str = "") -> T:
        """Let the runtime work until ``what()`` is truthy (it processes inputs and delivers
        in its own threads); fails after SETTLE_SECONDS."""
        deadline = time.monotonic() + SETTLE_SECONDS
        self.advance(0)  # process pending inputs now
        while True:
            value = what()
            if value:
                return value
            if time.monotonic() > deadline:
                dead = self.api.get("/api/v1/dead-letters").json()["items"]
                runs = self.runs()
                for run in runs:
                    steps = self.api.get(f"/api/v1/runs/{run['id']}").json()["steps"]
                    run["trace"] = [(e.get("type"), e.get("node_id"), e.get("exit"))
                                    for st in steps for e in st["output"]]
                raise AssertionError(f"timed out waiting for {message or what}; "
                                     f"runs: {runs}; dead letters: {dead}")
            time.sleep(0.02)
            self.advance(0)

    def whatsapp(self) -> list[dict[str, Any]]:
        return self.graph.sent_bodies()

    def emails(self) -> list[Message]:
        return [m for _, m in self.smtp.received]

    def sms(self) -> list[dict[str, str]]:
        return self.twilio.messages()

    def runs(self, flow_id: int | None = None) -> list[dict[str, Any]]:
        params = {"flow_id": flow_id} if flow_id else {}
        items: list[dict[str, Any]] = self.api.get("/api/v1/runs", params=params).json()["items"]
        return items

    def run(self, flow_id: int) -> dict[str, Any]:
        (run,) = self.runs(flow_id)
        return run

    def waiting_at(self, flow_id: int, node: str) -> bool:
        runs = self.runs(flow_id)
        return len(runs) == 1 and runs[0]["status"] == "waiting" and runs[0]["node_id"] == node

    def ended(self, flow_id: int) -> bool:
        runs = self.runs(flow_id)
        return len(runs) == 1 and runs[0]["status"] == "completed"

    def contact_now(self, contact_id: int) -> dict[str, Any]:
        data: dict[str, Any] = self.api.get(f"/api/v1/contacts/{contact_id}").json()
        return data

    def conversations(self, phone: str | None = None) -> list[dict[str, Any]]:
        """Open conversations handed to people (of the contact with ``phone``)."""
        params = {"status": "open", **({"q": phone.lstrip("+")} if phone else {})}
        items: list[dict[str, Any]] = self.api.get("/api/v1/inbox/conversations",
                                                   params=params).json()["items"]
        return items

    def tickets(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.api.get("/api/v1/tickets").json()["items"]
        return items

    def kpis(self, flow_id: int) -> dict[str, Any]:
        response = self.api.get(f"/api/v1/flows/{flow_id}/kpis")
        assert response.status_code == 200, response.text
        return {k["id"]: k for k in response.json()["kpis"]}


def texts(bodies: list[dict[str, Any]]) -> list[str]:
    """What each WhatsApp send said (text body, interactive body or template name)."""
    out = []
    for b in bodies:
        if b["type"] == "text":
            out.append(b["text"]["body"])
        elif b["type"] == "interactive":
            out.append(b["interactive"]["body"]["text"])
        else:
            out.append(f"template:{b['template']['name']}")
    return out


def subject(mail: Message) -> str:
    from email.header import decode_header, make_header

    return str(make_header(decode_header(str(mail["Subject"]))))


def body_of(mail: Message) -> str:
    if mail.is_multipart():
        part = next(p for p in mail.walk() if p.get_content_type() == "text/plain")
        payload = part.get_payload(decode=True)
    else:
        payload = mail.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(part.get_content_charset() if mail.is_multipart() else
                          mail.get_content_charset() or "utf-8")


@pytest.fixture
def world(settings: Settings, cauce: Cauce, demo: DemoCredentials) -> Iterator[World]:
    inbox, port = Inbox(), _port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    with cauce.transaction() as session:  # the HTTP steps' SSRF guard lets loopback through
        ws = session.get(Workspace, demo.workspace_id)
        assert ws is not None
        ws.settings = {**ws.settings, "http_allowed_hosts": ["127.0.0.1"]}
    partner = Partner()
    with FakeGraphApi() as graph, FakeTwilio() as twilio, partner:
        app = create_app(settings, cauce=cauce, start_hooks=[embedded_start_hook])
        with TestClient(app) as client:
            client.headers["Authorization"] = f"Bearer {demo.api_key}"
            connect_whatsapp(client, graph.url)  # type: ignore[attr-defined]
            for body in (
                {"kind": "email", "name": "Mail", "config": {
                    "host": "127.0.0.1", "port": port, "security": "none",
                    "from_address": "hola@tienda.example",
                    "unsubscribe_url": "https://tienda.example/baja?e={to}"}},
                {"kind": "sms_twilio", "name": "SMS", "config": {
                    "account_sid": twilio.account_sid,  # type: ignore[attr-defined]
                    "from_number": "+15005550006",
                    "api_base_url": twilio.url},  # type: ignore[attr-defined]
                 "secrets": {"auth_token": twilio.auth_token}},  # type: ignore[attr-defined]
            ):
                assert client.post("/api/v1/channels", json=body).status_code == 201
            yield World(client, graph, twilio, inbox, partner)  # type: ignore[arg-type]
    registry.close_all()
    controller.stop()


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1)
