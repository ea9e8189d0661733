"""Channels, templates, simulator and the SMS / bounce webhooks through the real app."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from cauce.channels.sms_twilio import twilio_signature
from cauce.runtime.handlers import default_directory
from cauce.services import channels as channel_service
from cauce.services.container import Cauce
from cauce.services.messages import check_rules, record_outbound
from cauce.store.models import AuditEntry, Channel
from tests.channels.conftest import sample
from tests.channels.support import connect_whatsapp, contact_by_phone, inputs, messages
from tests.conftest import T0
from tests.support.fakes.graph_api import FakeGraphApi
from tests.support.fakes.twilio import FakeTwilio


def test_secrets_are_never_returned(api: TestClient, graph: FakeGraphApi, cauce: Cauce) -> None:
    created = connect_whatsapp(api, graph.url)
    assert created["secrets_set"] == ["access_token", "app_secret", "verify_token"]
    assert created["webhook_path"] == "/webhooks/whatsapp"
    for response in (api.get("/api/v1/channels"), api.get(f"/api/v1/channels/{created['id']}")):
        assert "EAAG-token" not in response.text and "app-secret-123" not in response.text
    with cauce.transaction() as session:
        row = session.get(Channel, created["id"])
        assert row is not None and "EAAG-token" not in row.secrets  # encrypted at rest
        assert channel_service.secrets_of(cauce.secrets, row)["access_token"] == "EAAG-token"


@pytest.mark.parametrize(("body", "status", "field", "words"), [
    ({"kind": "whatsap", "name": "x"}, 422, "kind", "did you mean 'whatsapp'"),
    ({"kind": "whatsapp", "name": "x", "config": {"waba_id": "1"},
      "secrets": {"access_token": "t", "app_secret": "s", "verify_token": "v"}},
     422, "config.phone_number_id", "required"),
    ({"kind": "whatsapp", "name": "x", "config": {"phone_number_id": "1", "waba_id": "2",
                                                   "access_token": "t"}},
     422, "config.access_token", "send it in 'secrets'"),
    ({"kind": "whatsapp", "name": "x", "config": {"phone_number_id": "1", "waba_id": "2"},
      "secrets": {"access_token": "t", "app_secret": "s"}},
     422, "secrets.verify_token", "required"),
    ({"kind": "email", "name": "x", "config": {"host": "smtp.x", "from_address": "a@b.c",
                                                "security": "ssl"}},
     422, "config.security", "starttls, tls or none"),
    ({"kind": "sms_http", "name": "x", "config": {"url": "https://sms.example/api",
                                                   "id_path": "id", "body": {"t": "{{txt}}"}}},
     422, "config.body", "unknown placeholder"),
    ({"kind": "slack", "name": "x", "secrets": {"webhook_url": "http://hooks"}},
     422, "secrets.webhook_url", "https://hooks.slack.com"),
])
def test_bad_channel_input_names_the_field(api: TestClient, body: dict[str, Any], status: int,
                                           field: str, words: str) -> None:
    response = api.post("/api/v1/channels", json=body)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["field"] == field and words in error["message"]


def test_a_number_connects_once(api: TestClient, graph: FakeGraphApi) -> None:
    connect_whatsapp(api, graph.url)
    again = api.post("/api/v1/channels", json={
        "kind": "whatsapp", "name": "Otra", "config": {"phone_number_id": "106540352242922",
                                                       "waba_id": "1"},
        "secrets": {"access_token": "t", "app_secret": "s", "verify_token": "v"}})
    assert again.status_code == 409 and again.json()["error"]["field"] == \
        "config.phone_number_id"


def test_update_replaces_secrets_and_config(api: TestClient, graph: FakeGraphApi,
                                            cauce: Cauce) -> None:
    created = connect_whatsapp(api, graph.url)
    response = api.patch(f"/api/v1/channels/{created['id']}", json={
        "secrets": {"access_token": "EAAG-new"}, "config": {"graph_version": "v24.0"},
        "rate_per_second": 20})
    assert response.status_code == 200, response.text
    assert response.json()["config"]["graph_version"] == "v24.0"
    assert response.json()["rate_per_second"] == 20
    with cauce.transaction() as session:
        row = session.get(Channel, created["id"])
        assert row is not None
        secrets = channel_service.secrets_of(cauce.secrets, row)
        assert secrets["access_token"] == "EAAG-new" and secrets["app_secret"] == "app-secret-123"


def test_test_send_with_an_expired_token_marks_the_channel_broken(
    api: TestClient, graph: FakeGraphApi, cauce: Cauce
) -> None:
    created = connect_whatsapp(api, graph.url)
    graph.fail_next(190)
    response = api.post(f"/api/v1/channels/{created['id']}/test",
                        json={"to": "5491122334455", "text": "prueba"})
    assert response.status_code == 200
    assert response.json()["error_action"] == "channel_broken"
    channel = api.get(f"/api/v1/channels/{created['id']}").json()
    assert channel["status"] == "broken" and "access token expired" in channel["status_reason"]
    with cauce.transaction() as session:
        alerts = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "channel.broken")).all()
        assert len(alerts) == 1 and alerts[0].details["alert"] == "owner"
        # Delivery no longer uses a broken channel.
        assert channel_service.resolve_for_delivery(session, 1, "whatsapp") is None
    fixed = api.patch(f"/api/v1/channels/{created['id']}",
                      json={"secrets": {"access_token": "EAAG-fresh"}})
    assert fixed.json()["status"] == "active"
    ok = api.post(f"/api/v1/channels/{created['id']}/test", json={"to": "5491122334455"})
    assert ok.json()["status"] == "sent"
    assert graph.sends()[-1].headers["authorization"] == "Bearer EAAG-fresh"


def test_resolve_for_delivery_gives_the_runtime_a_decrypted_config(
    api: TestClient, graph: FakeGraphApi, cauce: Cauce
) -> None:
    connect_whatsapp(api, graph.url)
    with cauce.transaction() as session:
        found = channel_service.resolve_for_delivery(session, 1, "whatsapp")
        assert found is not None
        kind, config, sender, rate = found
        assert (kind, sender, rate) == ("whatsapp", "106540352242922", None)
        assert config["access_token"] == "EAAG-token" and config["graph_base_url"] == graph.url
        assert channel_service.resolve_for_delivery(session, 1, "sms") is None
        # No rate of its own: delivery paces the number at the adapter's default.
        resolved = default_directory(session, 1, "whatsapp")
        assert resolved is not None and resolved.rate_per_second is None
    # A number Meta allows more (or that the business wants slower) paces at its own rate.
    channel_id = api.get("/api/v1/channels").json()["items"][0]["id"]
    patched = api.patch(f"/api/v1/channels/{channel_id}", json={"rate_per_second": 250})
    assert patched.status_code == 200, patched.text
    with cauce.transaction() as session:
        resolved = default_directory(session, 1, "whatsapp")
        assert resolved is not None and resolved.rate_per_second == 250.0


def test_templates_manual_and_synced(api: TestClient, graph: FakeGraphApi, cauce: Cauce) -> None:
    channel_id = connect_whatsapp(api, graph.url)["id"]
    base = f"/api/v1/channels/{channel_id}/templates"
    manual = api.post(base, json={"name": "bienvenida", "language": "es_AR",
                                  "category": "marketing", "status": "paused"})
    assert manual.status_code == 201 and manual.json()["source"] == "manual"
    bad = api.post(base, json={"name": "x", "language": "es", "status": "maybe"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "status"
    graph.templates = [
        {"id": "1", "name": "recordatorio_cita", "language": "es_AR", "status": "APPROVED",
         "category": "UTILITY", "components": [{"type": "BODY", "text": "Hola {{1}}"}]},
        {"id": "2", "name": "promo_otono", "language": "es_AR", "status": "PAUSED",
         "category": "MARKETING", "components": []},
        {"id": "3", "name": "baja_confirmada", "language": "es", "status": "DISABLED",
         "category": "UTILITY", "components": []},
    ]
    synced = api.post(f"{base}/sync")
    assert synced.status_code == 200, synced.text
    by_name = {t["name"]: t for t in synced.json()["items"]}
    assert by_name["recordatorio_cita"]["status"] == "approved"
    assert by_name["promo_otono"]["status"] == "paused"
    assert by_name["baja_confirmada"]["status"] == "disabled"
    assert by_name["bienvenida"]["source"] == "manual"
    # The fake pages two at a time: the sync followed paging.next.
    assert len(graph.requests_to("/message_templates", "GET")) == 2
    with cauce.transaction() as session:
        found = channel_service.resolve_for_delivery(session, 1, "whatsapp")
        assert found is not None
        assert found[1]["templates"]["promo_otono:es_AR"] == "paused"
    graph.templates = graph.templates[:1]
    resynced = {t["name"]: t for t in api.post(f"{base}/sync").json()["items"]}
    assert resynced["promo_otono"]["status"] == "deleted"
    assert resynced["bienvenida"]["status"] == "paused"  # hand-made rows are left alone


def test_a_paused_template_is_refused_with_a_clear_reason(
    api: TestClient, graph: FakeGraphApi, cauce: Cauce
) -> None:
    from cauce.channels.base import OutboundMessage
    from cauce.channels.registry import get_adapter

    channel_id = connect_whatsapp(api, graph.url)["id"]
    api.post(f"/api/v1/channels/{channel_id}/templates",
             json={"name": "promo", "language": "es_AR", "status": "paused"})
    with cauce.transaction() as session:
        found = channel_service.resolve_for_delivery(session, 1, "whatsapp")
        assert found is not None
    result = get_adapter("whatsapp").send(OutboundMessage(
        key="k", channel="whatsapp", kind="template", to="5491122334455",
        payload={"name": "promo", "language": "es_AR"}), found[1])
    assert result.error is not None
    assert result.error.reason == "template 'promo' (es_AR) is paused, not approved; it " \
        "cannot be sent"
    assert graph.sends() == []


def test_simulator_conversation_and_window(api: TestClient, cauce: Cauce,
                                           clock: Any) -> None:
    first = api.post("/api/v1/simulator/messages",
                     json={"phone": "+54 9 11 2233-4455", "name": "Ana Pérez", "text": "Hola"})
    assert first.status_code == 202, first.text
    contact_id = first.json()["contact_id"]
    tapped = api.post("/api/v1/simulator/messages", json={
        "contact_id": contact_id, "button_id": "si", "button_title": "Sí", "reply_to": "k-1"})
    assert tapped.status_code == 202
    assert [i.payload.get("button_id") for i in inputs(cauce)] == [None, "si"]
    assert inputs(cauce)[1].payload["reply_to"] == "k-1"
    with cauce.transaction() as session:
        record_outbound(session, workspace_id=1, contact_id=contact_id, channel_kind="simulator",
                        key="k-2", kind="text", content={"text": "¡Genial!"},
                        now=clock.now(), status="sent", provider_id="sim.k-2")
    transcript = api.get(f"/api/v1/simulator/contacts/{contact_id}/messages").json()
    assert [(m["direction"], m["text"]) for m in transcript["items"]] == [
        ("in", "Hola"), ("in", "Sí"), ("out", "¡Genial!")]
    assert transcript["window_open"] is True
    with cauce.transaction() as session:
        decision = check_rules(session, workspace_id=1, contact_id=contact_id,
                               channel_kind="simulator", channel_id=None, kind="text",
                               category="service", now=clock.now())
        assert decision.action == "send"
    from datetime import timedelta

    clock.advance(timedelta(hours=25))
    assert api.get(f"/api/v1/simulator/contacts/{contact_id}/messages").json()[
        "window_open"] is False
    with cauce.transaction() as session:
        closed = check_rules(session, workspace_id=1, contact_id=contact_id,
                             channel_kind="simulator", channel_id=None, kind="text",
                             category="service", now=clock.now(), has_fallback=True)
        assert closed.action == "fallback_template" and "25 hours ago" in closed.reason
    empty = api.post("/api/v1/simulator/messages", json={"contact_id": contact_id})
    assert empty.status_code == 422 and empty.json()["error"]["field"] == "text"


def _twilio_channel(api: TestClient, twilio: FakeTwilio) -> dict[str, Any]:
    response = api.post("/api/v1/channels", json={
        "kind": "sms_twilio", "name": "SMS", "config": {
            "account_sid": twilio.account_sid, "from_number": "+15005550006",
            "api_base_url": twilio.url},
        "secrets": {"auth_token": twilio.auth_token}})
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def _post_twilio(api: TestClient, form: dict[str, str], token: str) -> Any:
    url = "http://testserver/webhooks/sms/twilio"
    return api.post("/webhooks/sms/twilio", data=form,
                    headers={"X-Twilio-Signature": twilio_signature(token, url, form)})


def test_twilio_inbound_and_status_callbacks(api: TestClient, twilio: FakeTwilio,
                                             cauce: Cauce) -> None:
    channel = _twilio_channel(api, twilio)
    sent = api.post(f"/api/v1/channels/{channel['id']}/test",
                    json={"to": "+5491122334455", "text": "hola"}).json()
    assert sent["status"] == "sent"
    inbound = {"AccountSid": twilio.account_sid, "MessageSid": "SMin1", "From": "+5491122334455",
               "To": "+15005550006", "Body": "BAJA", "SmsStatus": "received"}
    response = _post_twilio(api, inbound, twilio.auth_token)
    assert response.status_code == 200 and response.text.endswith("<Response></Response>")
    assert contact_by_phone(cauce, "+5491122334455").opted_out_marketing is True
    assert inputs(cauce)[0].payload["channel"] == "sms"
    assert _post_twilio(api, inbound, twilio.auth_token).status_code == 200
    assert len(inputs(cauce)) == 1  # redelivery
    with cauce.transaction() as session:
        contact = contact_by_phone(cauce, "+5491122334455")
        record_outbound(session, workspace_id=1, contact_id=contact.id,
                        channel_kind="sms_twilio", key="run-5:sms:1", kind="sms",
                        content={"text": "Tu turno"}, now=cauce.clock.now(),
                        provider_id=sent["provider_id"])
    status = {"AccountSid": twilio.account_sid, "MessageSid": sent["provider_id"],
              "MessageStatus": "undelivered", "ErrorCode": "30005", "From": "+15005550006",
              "To": "+5491122334455"}
    assert _post_twilio(api, status, twilio.auth_token).status_code == 200
    out = next(m for m in messages(cauce) if m.direction == "out")
    assert out.status == "failed" and out.error_code == "30005"
    assert inputs(cauce)[-1].payload == {**inputs(cauce)[-1].payload, "type": "delivery",
                                         "message_key": "run-5:sms:1", "status": "failed"}
    assert _post_twilio(api, status, "wrong-token").status_code == 403
    assert api.post("/webhooks/sms/twilio", data=status).status_code == 401


def test_generic_sms_webhook(api: TestClient, cauce: Cauce) -> None:
    created = api.post("/api/v1/channels", json={
        "kind": "sms_http", "name": "EnviosSMS", "config": {
            "url": "https://sms.example/api/send", "id_path": "data.id",
            "body": {"to": "{{to}}", "msg": "{{text}}"}, "from_number": "+5491100000000",
            "status_id_field": "id", "status_field": "estado",
            "status_map": {"entregado": "delivered", "fallido": "failed"},
            "inbound_from_field": "origen", "inbound_text_field": "texto"},
        "secrets": {"webhook_token": "tok-1", "auth": {"type": "bearer", "token": "b"}}})
    assert created.status_code == 201, created.text
    cid = created.json()["id"]
    assert api.post(f"/webhooks/sms/{cid}", json={"origen": "+5491122334455"}).status_code == 401
    assert api.post(f"/webhooks/sms/{cid}?token=nope",
                    json={"origen": "+5491122334455"}).status_code == 403
    got = api.post(f"/webhooks/sms/{cid}?token=tok-1",
                   json={"origen": "+5491122334455", "texto": "hola", "message_id": "e1"})
    assert got.status_code == 200 and got.json()["messages"] == 1
    contact = contact_by_phone(cauce, "+5491122334455")
    with cauce.transaction() as session:
        record_outbound(session, workspace_id=1, contact_id=contact.id, channel_kind="sms_http",
                        key="run-6:sms:1", kind="sms", content={"text": "x"},
                        now=cauce.clock.now(), provider_id="env-9")
    status = api.post(f"/webhooks/sms/{cid}?token=tok-1",
                      data={"id": "env-9", "estado": "entregado"})
    assert status.status_code == 200 and status.json()["statuses"] == 1
    out = next(m for m in messages(cauce) if m.direction == "out")
    assert out.status == "delivered"
    neither = api.post(f"/webhooks/sms/{cid}?token=tok-1", json={"foo": "bar"})
    assert neither.status_code == 422
    assert api.post(f"/webhooks/sms/{cid}?token=tok-1", content=b"{nope",
                    headers={"Content-Type": "application/json"}).status_code == 400


def test_email_bounces(api: TestClient, cauce: Cauce) -> None:
    created = api.post("/api/v1/channels", json={
        "kind": "email", "name": "Mail", "config": {"host": "smtp.example",
                                                    "from_address": "hola@tienda.example"},
        "secrets": {"password": "p", "bounce_token": "bt-1"}})
    assert created.status_code == 201, created.text
    contact = api.post("/api/v1/contacts", json={"email": "ana@example.com", "name": "Ana"})
    assert contact.status_code in (200, 201), contact.text
    contact_id = contact.json()["id"]
    with cauce.transaction() as session:
        record_outbound(session, workspace_id=1, contact_id=contact_id, channel_kind="email",
                        key="run-8:mail:1", kind="email", content={"subject": "Hola"},
                        now=cauce.clock.now(), provider_id="<abc@tienda.example>")
    body = {"bounces": [
        {"message_id": "abc@tienda.example", "email": "ana@example.com", "type": "hard",
         "reason": "550 5.1.1 user unknown"},
        {"email": "ana@example.com", "type": "complaint", "key": "run-8:mail:1"},
        {"type": "bogus"}]}
    assert api.post("/webhooks/email/bounces", json=body,
                    headers={"Authorization": ""}).status_code == 401
    assert api.post("/webhooks/email/bounces", json=body,
                    headers={"Authorization": "Bearer nope"}).status_code == 403
    response = api.post("/webhooks/email/bounces", json=body,
                        headers={"Authorization": "Bearer bt-1"})
    assert response.status_code == 200, response.text
    assert response.json()["statuses"] == 1 and response.json()["duplicates"] == 1
    assert "bounces[2].type" in response.json()["problems"][0]
    out = next(m for m in messages(cauce) if m.direction == "out")
    assert out.status == "failed" and "user unknown" in (out.error_reason or "")
    detail = api.get(f"/api/v1/contacts/{contact_id}").json()
    assert detail["opted_out_marketing"] is True
    assert json.loads(json.dumps(inputs(cauce)[-1].payload))["status"] == "failed"


def _hola(phone_number_id: str, wa_id: str, wamid: str) -> dict[str, Any]:
    payload = sample("inbound_text")
    value = payload["entry"][0]["changes"][0]["value"]
    value["metadata"]["phone_number_id"] = phone_number_id
    value["contacts"][0]["wa_id"] = wa_id
    value["messages"][0].update({"from": wa_id, "id": wamid, "text": {"body": "hola"},
                                 "timestamp": str(int(T0.timestamp()))})  # the flows' "now"
    return payload


def test_a_reply_leaves_from_the_number_the_contact_wrote_to(
    api: TestClient, graph: FakeGraphApi, cauce: Cauce
) -> None:
    """Two WhatsApp numbers in one workspace: each contact's reply goes out from the number
    they wrote to (the 24-hour window is per number: the first number could not send free
    text to someone who wrote to the second), and is paced on that number's bucket."""
    from cauce.runtime.delivery import Delivery
    from cauce.runtime.handlers import MessageHandler
    from tests.channels.support import post_signed
    from tests.runtime.support import drain, processor, publish

    connect_whatsapp(api, graph.url, name="Ventas")  # the oldest: the default
    second = "106540352240002"
    connect_whatsapp(api, graph.url, phone_number_id=second, name="Soporte")
    publish(cauce, 1, {"trigger": {"keyword": "hola"},
                       "steps": [{"send": "¡Hola! ¿En qué te ayudo?"}]})
    for number, wa_id in ((second, "5491100000001"), ("106540352242922", "5491100000002")):
        answer = post_signed(api, _hola(number, wa_id, f"wamid.{wa_id}"))
        assert answer.status_code == 200, answer.text
    drain(processor(cauce))
    delivery = Delivery(cauce, handlers={"message_requested": MessageHandler()})
    assert delivery.deliver_batch() == 2
    delivery.close()
    sent = {r.json()["to"]: r.path for r in graph.sends()}
    assert sent["5491100000001"].endswith(f"/{second}/messages")
    assert sent["5491100000002"].endswith("/106540352242922/messages")
    assert all(m.status == "sent" for m in messages(cauce) if m.direction == "out")
