"""End to end from a flow: the real engine and runtime send an email through aiosmtpd and an
SMS through a fake Twilio, using channels configured through the API; the SMS delivery report
comes back through the signed Twilio webhook."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import select

from cauce.channels.sms_twilio import twilio_signature
from cauce.engine.types import EventIn
from cauce.runtime.delivery import Delivery
from cauce.runtime.engine_port import default_engine
from cauce.runtime.handlers import MessageHandler
from cauce.runtime.ingest import submit_input
from cauce.runtime.processor import Processor
from cauce.services.container import Cauce
from cauce.store.models import Contact, Flow, FlowVersion, OutboxItem
from tests.channels.test_email import Inbox, _port
from tests.support.fakes.twilio import FakeTwilio

FLOW: dict[str, Any] = {
    "format": 1,
    "metadata": {"name": "Confirmación de turno", "language": "es"},
    "triggers": [{"type": "business_event", "event": "turno.creado"}],
    "settings": {},
    "nodes": [
        {"id": "mail", "type": "email",
         "config": {"subject": "Tu turno, {{ contact.first_name }}",
                    "text": "Te esperamos el lunes.", "html": "<p>Te esperamos el lunes.</p>"},
         "exits": {"next": "sms", "failed": "sms"}},
        {"id": "sms", "type": "sms", "config": {"text": "Turno confirmado: lunes 10:00"},
         "exits": {"next": None, "failed": None}},
    ],
}


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), _port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def _publish(session: Any, name: str, document: dict[str, Any], now: Any) -> None:
    """Publish ``document`` as version 1 of a new flow of workspace 1."""
    flow = Flow(workspace_id=1, name=name, draft=document, published_version=1,
                created_at=now, updated_at=now)
    session.add(flow)
    session.flush()
    session.add(FlowVersion(workspace_id=1, flow_id=flow.id, number=1, document=document,
                            published_at=now))


def _drain(p: Processor) -> None:
    while p.process_batch():
        pass


def test_email_and_sms_from_a_flow(api: TestClient, cauce: Cauce, smtp: tuple[Inbox, int],
                                   twilio: FakeTwilio) -> None:
    inbox, port = smtp
    for body in (
        {"kind": "email", "name": "Mail", "config": {
            "host": "127.0.0.1", "port": port, "security": "none",
            "from_address": "turnos@clinica.example",
            "unsubscribe_url": "https://clinica.example/baja?e={to}"}},
        {"kind": "sms_twilio", "name": "SMS", "config": {
            "account_sid": twilio.account_sid, "from_number": "+15005550006",
            "api_base_url": twilio.url}, "secrets": {"auth_token": twilio.auth_token}},
    ):
        assert api.post("/api/v1/channels", json=body).status_code == 201
    contact = api.post("/api/v1/contacts", json={
        "phone": "+5491122334455", "email": "ana@example.com", "first_name": "Ana"}).json()
    now = cauce.clock.now()
    with cauce.transaction() as s:
        _publish(s, "turnos", FLOW, now)
        submit_input(s, workspace_id=1, contact_id=contact["id"],
                     input=EventIn(name="turno.creado", occurred_at=now))
    processor = Processor(cauce, default_engine())
    _drain(processor)
    delivery = Delivery(cauce, handlers={"message_requested": MessageHandler()})
    sent = 0
    for _ in range(5):  # the SMS is requested only after the email step finished
        sent += delivery.deliver_batch()
        _drain(processor)
    delivery.close()
    with cauce.transaction() as s:
        debug = [(i.kind, i.status, i.last_error, i.payload) for i in
                 s.scalars(select(OutboxItem).order_by(OutboxItem.id))]
    assert sent == 2, debug
    assert len(inbox.received) == 1, debug
    ((envelope, mime),) = inbox.received
    assert envelope.rcpt_tos == ["ana@example.com"] and mime["Subject"] == "Tu turno, Ana"
    assert "clinica.example/baja?e=ana%40example.com" in str(mime["List-Unsubscribe"])
    (sms,) = twilio.messages()
    assert sms["To"] == "+5491122334455" and sms["Body"] == "Turno confirmado: lunes 10:00"
    with cauce.transaction() as s:
        items = list(s.scalars(select(OutboxItem).order_by(OutboxItem.id)))
        assert [i.status for i in items] == ["done", "done"]
        assert items[1].provider_id and items[1].provider_id.startswith("SM")
        sms_key = items[1].key
        # Delivery records outcomes in its outbox; the transcript needs the messages table.
        from cauce.services.messages import record_outbound

        record_outbound(s, workspace_id=1, contact_id=contact["id"], channel_kind="sms_twilio",
                        key=sms_key, kind="sms", content={"text": sms["Body"]}, now=now,
                        provider_id=items[1].provider_id, status="sent")
        assert s.get(Contact, contact["id"]) is not None
    form = {"AccountSid": twilio.account_sid, "MessageSid": str(items[1].provider_id),
            "MessageStatus": "delivered", "From": "+15005550006", "To": "+5491122334455"}
    url = "http://testserver/webhooks/sms/twilio"
    response = api.post("/webhooks/sms/twilio", data=form, headers={
        "X-Twilio-Signature": twilio_signature(twilio.auth_token, url, form)})
    assert response.status_code == 200
    from tests.channels.support import inputs

    delivered = [i for i in inputs(cauce) if i.kind == "delivery"]
    assert delivered and delivered[-1].payload["message_key"] == sms_key
    assert delivered[-1].payload["status"] == "delivered"


def test_whatsapp_text_outside_the_window_fails_with_window_closed(
    api: TestClient, cauce: Cauce, graph: Any
) -> None:
    from tests.channels.support import connect_whatsapp, inputs

    connect_whatsapp(api, graph.url)
    # Our record says the contact wrote 23 hours ago, so Cauce's own rules let the text go;
    # Meta's view of the window is what counts, and it answers 131047 (e.g. the inbound we
    # recorded reached another number of the business). The refusal must still map to
    # "window closed" and never be retried. (A window Cauce knows is closed is refused before
    # any provider call: tests/runtime/test_delivery.py's contact-rules test.)
    graph.fail_next(131047)
    flow = {**FLOW, "nodes": [{"id": "hola", "type": "whatsapp_text",
                               "config": {"text": "Hola {{ contact.first_name }}"},
                               "exits": {"next": None, "failed": None}}]}
    contact = api.post("/api/v1/contacts", json={"phone": "+5491122334455",
                                                 "first_name": "Ana"}).json()
    now = cauce.clock.now()
    with cauce.transaction() as s:
        from datetime import timedelta

        from cauce.services.messages import record_inbound

        record_inbound(s, workspace_id=1, contact_id=contact["id"], channel_kind="whatsapp",
                       channel_id=None, provider_id="wamid.earlier", kind="text",
                       content={"text": "hola"}, received_at=now - timedelta(hours=23))
        _publish(s, "hola", flow, now)
        submit_input(s, workspace_id=1, contact_id=contact["id"],
                     input=EventIn(name="turno.creado", occurred_at=now))
    processor = Processor(cauce, default_engine())
    _drain(processor)
    delivery = Delivery(cauce, handlers={"message_requested": MessageHandler()})
    assert delivery.deliver_batch() == 1
    delivery.close()
    (body,) = graph.sent_bodies()
    assert body["type"] == "text" and body["text"]["body"] == "Hola Ana"
    assert body["to"] == "5491122334455"
    with cauce.transaction() as s:
        (item,) = s.scalars(select(OutboxItem)).all()
        assert item.status == "dead"  # not retried
        assert (item.last_error or "").startswith("window closed")
    (failed,) = [i for i in inputs(cauce) if i.kind == "delivery"]
    assert failed.payload["status"] == "failed" and failed.payload["error_code"] == "131047"
    assert failed.payload["error_reason"].startswith("window closed")
    assert len(graph.sends()) == 1


def _run_hola_flow(api: TestClient, cauce: Cauce, graph: Any, node_config: dict[str, Any],
                   last_inbound_hours_ago: int) -> tuple[list[OutboxItem], list[Any]]:
    """Publish a one-step WhatsApp flow, record the contact's last inbound message
    ``last_inbound_hours_ago`` hours back, fire the trigger and deliver; return the outbox
    rows and the delivery inputs the runtime recorded."""
    from datetime import timedelta

    from cauce.services.messages import record_inbound
    from tests.channels.support import connect_whatsapp, inputs

    connect_whatsapp(api, graph.url)
    flow = {**FLOW, "nodes": [
        {"id": "hola", "type": "whatsapp_text", "config": node_config,
         "exits": {"next": "await", "failed": "undeliverable"}},
        {"id": "await", "type": "wait_for_reply", "config": {"timeout": "1d"},
         "exits": {"replied": None, "timeout": None}},
        {"id": "undeliverable", "type": "add_tag", "config": {"tags": ["ventana-cerrada"]},
         "exits": {"next": None}},
    ]}
    contact = api.post("/api/v1/contacts", json={"phone": "+5491122334455",
                                                 "first_name": "Ana"}).json()
    now = cauce.clock.now()
    with cauce.transaction() as s:
        record_inbound(s, workspace_id=1, contact_id=contact["id"], channel_kind="whatsapp",
                       channel_id=None, provider_id="wamid.old", kind="text",
                       content={"text": "hola"},
                       received_at=now - timedelta(hours=last_inbound_hours_ago))
        _publish(s, "hola", flow, now)
        submit_input(s, workspace_id=1, contact_id=contact["id"],
                     input=EventIn(name="turno.creado", occurred_at=now))
    processor = Processor(cauce, default_engine())
    _drain(processor)
    delivery = Delivery(cauce, handlers={"message_requested": MessageHandler()})
    delivery.deliver_batch()
    delivery.close()
    _drain(processor)
    with cauce.transaction() as s:
        items = list(s.scalars(select(OutboxItem).order_by(OutboxItem.id)))
    return items, [i for i in inputs(cauce) if i.kind == "delivery"]


def test_window_closed_25_hours_ago_sends_the_template_fallback(
    api: TestClient, cauce: Cauce, graph: Any
) -> None:
    items, _ = _run_hola_flow(api, cauce, graph, {
        "text": "Hola {{ contact.first_name }}, ¿seguimos?",
        "fallback_template": {"name": "seguimiento", "language": "es",
                              "body_params": ["{{ contact.first_name }}"]},
    }, last_inbound_hours_ago=25)
    (body,) = graph.sent_bodies()
    assert body["type"] == "template"
    assert body["template"]["name"] == "seguimiento"
    assert body["template"]["language"]["code"] == "es"
    (component,) = [c for c in body["template"]["components"] if c["type"] == "body"]
    assert component["parameters"] == [{"type": "text", "text": "Ana"}]
    assert [i.status for i in items] == ["done"]
    with cauce.transaction() as s:
        from cauce.store.models import RuntimeRun

        (run,) = s.scalars(select(RuntimeRun)).all()
        assert run.status == "waiting" and run.state["node_id"] == "await"


def test_window_closed_25_hours_ago_without_fallback_takes_failed_with_window_closed(
    api: TestClient, cauce: Cauce, graph: Any
) -> None:
    items, delivered = _run_hola_flow(api, cauce, graph, {"text": "Hola {{ contact.first_name }}"},
                                      last_inbound_hours_ago=25)
    assert graph.sends() == []  # refused before any provider call
    (item,) = items
    assert item.status == "dead" and (item.last_error or "").startswith("window closed")
    (failed,) = delivered
    assert failed.payload["status"] == "failed"
    assert "window closed" in failed.payload["error_reason"]
    with cauce.transaction() as s:
        from cauce.store.models import Contact, RuntimeRun

        (run,) = s.scalars(select(RuntimeRun)).all()
        assert run.state["node_id"] == "undeliverable" and run.status == "completed"
        (contact,) = s.scalars(select(Contact)).all()
        assert "ventana-cerrada" in contact.tags
