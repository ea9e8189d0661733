"""WhatsApp webhooks through the real app: handshake, signatures, every sample payload,
redeliveries, bad webhooks, statuses feeding runs."""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import threading
import time
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from cauce.channels.whatsapp.webhook import sign
from cauce.runtime import webhook_inbox
from cauce.runtime.webhook_inbox import GroupCommit, group_commit
from cauce.services import inbound
from cauce.services.container import Cauce
from cauce.services.messages import record_outbound
from cauce.store.models import Contact, InboundWebhook
from tests.channels.conftest import sample
from tests.channels.support import (
    APP_SECRET,
    VERIFY_TOKEN,
    WA_ID,
    connect_whatsapp,
    contact_by_phone,
    inputs,
    messages,
    post_signed,
    webhook_outcome,
)
from tests.support.fakes.graph_api import FakeGraphApi

OUR_WAMID = "wamid.HBgLMTY1MDU1NTEyMzQVAgARGBJBQkNERUYwMTIzNDU2Nzg5AA=="


@pytest.fixture
def wa_api(api: TestClient, graph: FakeGraphApi) -> TestClient:
    connect_whatsapp(api, graph.url)
    return api


def test_handshake_echoes_the_challenge(wa_api: TestClient) -> None:
    ok = wa_api.get("/webhooks/whatsapp", params={
        "hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"})
    assert (ok.status_code, ok.text) == (200, "1158201444")
    bad = wa_api.get("/webhooks/whatsapp", params={
        "hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"})
    assert bad.status_code == 403
    wrong_mode = wa_api.get("/webhooks/whatsapp", params={
        "hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"})
    assert wrong_mode.status_code == 403


def test_inbound_text_creates_contact_message_and_input(wa_api: TestClient,
                                                        cauce: Cauce) -> None:
    response = post_signed(wa_api, sample("inbound_text"))
    assert response.status_code == 200, response.text
    assert response.json()["queued"] is True  # stored raw, parsed by the runtime
    assert webhook_outcome(wa_api, response)["messages"] == 1
    (msg,) = messages(cauce)
    assert (msg.direction, msg.kind, msg.channel_kind) == ("in", "text", "whatsapp")
    assert msg.text == "Hi, is the 2BR apartment still available?"
    contact = contact_by_phone(cauce, f"+{WA_ID}")
    assert contact.name == "Sheena Nelson" and contact.last_inbound_at is not None
    (inp,) = inputs(cauce)
    assert inp.contact_id == contact.id and inp.kind == "message"
    assert inp.payload["text"] == "Hi, is the 2BR apartment still available?"
    assert inp.payload["channel"] == "whatsapp"
    assert inp.payload["first_in_conversation"] is True
    assert inp.payload["received_at"].startswith("2025-06-15T15:06:40")


def test_a_redelivery_changes_nothing(wa_api: TestClient, cauce: Cauce) -> None:
    assert webhook_outcome(wa_api, post_signed(wa_api, sample("inbound_text")))["messages"] == 1
    again = post_signed(wa_api, sample("inbound_text"))
    assert again.status_code == 200 and webhook_outcome(wa_api, again)["duplicates"] == 1
    assert len(messages(cauce)) == 1 and len(inputs(cauce)) == 1


def _sent_message(cauce: Cauce, key: str = "run-1:ask:1") -> None:
    with cauce.transaction() as session:
        contact_id = None
        from cauce.services.inbound import find_or_create_contact

        contact_id = find_or_create_contact(session, 1, phone=WA_ID, name=None,
                                            now=cauce.clock.now()).id
        record_outbound(session, workspace_id=1, contact_id=contact_id, channel_kind="whatsapp",
                        key=key, kind="buttons", content={"body": "?"}, now=cauce.clock.now(),
                        provider_id=OUR_WAMID, run_id="run-1", node_id="ask")


@pytest.mark.parametrize(("name", "fields"), [
    ("inbound_interactive_button_reply",
     {"button_id": "book_viewing", "button_title": "Book a viewing", "text": "Book a viewing"}),
    ("inbound_interactive_list_reply",
     {"button_id": "slot_2025_06_16_1000", "button_title": "Mon 10:00"}),
    ("inbound_template_quick_reply_button",
     {"button_id": "OPT_IN_YES", "button_title": "Yes, keep me posted"}),
])
def test_replies_are_matched_to_the_message_that_asked(
    wa_api: TestClient, cauce: Cauce, name: str, fields: dict[str, Any]
) -> None:
    _sent_message(cauce)
    assert webhook_outcome(wa_api, post_signed(wa_api, sample(name)))["messages"] == 1
    (inp,) = inputs(cauce)
    assert inp.payload["reply_to"] == "run-1:ask:1"  # our key, found through context.id
    for key, value in fields.items():
        assert inp.payload[key] == value


def test_media_is_stored_by_id_and_fetched_on_demand(
    wa_api: TestClient, cauce: Cauce, graph: FakeGraphApi
) -> None:
    assert webhook_outcome(wa_api, post_signed(wa_api, sample("inbound_image")))["messages"] == 1
    (inp,) = inputs(cauce)
    assert inp.payload["media"]["id"] == "1003383421387256"
    assert inp.payload["text"] == "Photo of the leak"
    assert graph.requests == []  # nothing downloaded yet
    graph.media["1003383421387256"] = (b"\xff\xd8jpeg-bytes", "image/jpeg")
    channel_id = wa_api.get("/api/v1/channels").json()["items"][0]["id"]
    got = wa_api.get(f"/api/v1/channels/{channel_id}/media/1003383421387256")
    assert got.status_code == 200
    assert got.content == b"\xff\xd8jpeg-bytes" and got.headers["content-type"] == "image/jpeg"
    assert all(r.headers["authorization"] == "Bearer EAAG-token" for r in graph.requests)
    missing = wa_api.get(f"/api/v1/channels/{channel_id}/media/404404")
    assert missing.status_code == 404


def test_location(wa_api: TestClient, cauce: Cauce) -> None:
    post_signed(wa_api, sample("inbound_location"))
    (inp,) = inputs(cauce)
    assert inp.payload["location"]["latitude"] == 37.4611978
    assert inp.payload["location"]["name"] == "Facebook HQ"


def test_reaction(wa_api: TestClient, cauce: Cauce) -> None:
    payload = sample("inbound_text")
    msg = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    del msg["text"]
    msg.update(type="reaction", reaction={"message_id": OUR_WAMID, "emoji": "👍"})
    _sent_message(cauce)
    post_signed(wa_api, payload)
    (stored,) = [m for m in messages(cauce) if m.direction == "in"]
    assert stored.kind == "reaction" and stored.content["reaction"]["emoji"] == "👍"
    assert inputs(cauce)[0].payload["reply_to"] == "run-1:ask:1"


def test_ctwa_referral_is_attributed_and_passed_to_the_run(wa_api: TestClient,
                                                          cauce: Cauce) -> None:
    post_signed(wa_api, sample("inbound_ctwa_referral_text"))
    contact = contact_by_phone(cauce, f"+{WA_ID}")
    assert contact.attribution["source"] == "ad"
    assert contact.attribution["referral"]["source_id"] == "120212345678901234"
    assert contact.ad_id == "120212345678901234"
    (inp,) = inputs(cauce)
    assert inp.payload["referral"]["ctwa_clid"].startswith("ARAkLkA8")


def test_user_preferences_stop_and_resume(wa_api: TestClient, cauce: Cauce) -> None:
    stop = sample("inbound_user_preferences_stop")
    assert post_signed(wa_api, stop).status_code == 200
    contact = contact_by_phone(cauce, f"+{WA_ID}")
    assert contact.opted_out_marketing is True
    assert contact.consent["marketing"]["source"] == "whatsapp:user_preferences"
    resume = copy.deepcopy(stop)
    resume["entry"][0]["changes"][0]["value"]["user_preferences"][0]["value"] = "resume"
    post_signed(wa_api, resume)
    assert contact_by_phone(cauce, f"+{WA_ID}").opted_out_marketing is False


@pytest.mark.parametrize("word", ["BAJA", "stop", "Cancelar!"])
def test_stop_keywords_opt_out_of_marketing(wa_api: TestClient, cauce: Cauce,
                                            word: str) -> None:
    payload = sample("inbound_text")
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"] = word
    post_signed(wa_api, payload)
    assert contact_by_phone(cauce, f"+{WA_ID}").opted_out_marketing is True


def test_a_sentence_with_a_keyword_is_not_an_opt_out(wa_api: TestClient, cauce: Cauce) -> None:
    payload = sample("inbound_text")
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["text"]["body"] = \
        "quiero cancelar mi pedido"
    post_signed(wa_api, payload)
    assert contact_by_phone(cauce, f"+{WA_ID}").opted_out_marketing is False


STATUS_SAMPLES = [
    ("status_sent_pmp_utility_template", "sent", "utility", "regular"),
    ("status_sent_legacy_cbp", "sent", "marketing", None),
    ("status_delivered_pmp_free_customer_service", "delivered", "service",
     "free_customer_service"),
    ("status_read_pmp_free_entry_point", "read", "referral_conversion", "free_entry_point"),
]


@pytest.mark.parametrize(("name", "status", "category", "ptype"), STATUS_SAMPLES)
def test_statuses_update_the_message_and_reach_the_run(
    wa_api: TestClient, cauce: Cauce, name: str, status: str, category: str, ptype: str | None
) -> None:
    _sent_message(cauce)
    response = post_signed(wa_api, sample(name))
    assert webhook_outcome(wa_api, response)["statuses"] == 1
    (msg,) = messages(cauce)
    assert getattr(msg, f"{status}_at") is not None
    assert msg.pricing_category == category and msg.pricing_type == ptype
    assert msg.free_entry_point is (ptype == "free_entry_point")
    (inp,) = inputs(cauce)
    assert inp.kind == "delivery"
    assert inp.payload["message_key"] == "run-1:ask:1" and inp.payload["status"] == status
    again = post_signed(wa_api, sample(name))
    assert webhook_outcome(wa_api, again)["duplicates"] == 1 and len(inputs(cauce)) == 1


def test_read_before_delivered_keeps_read(wa_api: TestClient, cauce: Cauce) -> None:
    _sent_message(cauce)
    post_signed(wa_api, sample("status_read_pmp_free_entry_point"))
    post_signed(wa_api, sample("status_delivered_pmp_free_customer_service"))
    (msg,) = messages(cauce)
    assert msg.status == "read" and msg.delivered_at is not None
    assert [i.payload["status"] for i in inputs(cauce)] == ["read", "delivered"]


@pytest.mark.parametrize(("name", "code", "words"), [
    ("status_failed_131047", "131047", "window closed"),
    ("status_failed_131026", "131026", "undeliverable"),
])
def test_failed_statuses_carry_the_mapped_reason(
    wa_api: TestClient, cauce: Cauce, name: str, code: str, words: str
) -> None:
    _sent_message(cauce)
    post_signed(wa_api, sample(name))
    (msg,) = messages(cauce)
    assert msg.status == "failed" and msg.error_code == code and words in (msg.error_reason or "")
    (inp,) = inputs(cauce)
    assert inp.payload["status"] == "failed" and inp.payload["error_code"] == code


def test_status_found_by_our_key_when_the_wamid_was_lost(wa_api: TestClient,
                                                         cauce: Cauce) -> None:
    with cauce.transaction() as session:
        from cauce.services.inbound import find_or_create_contact

        contact = find_or_create_contact(session, 1, phone=WA_ID, name=None,
                                         now=cauce.clock.now())
        record_outbound(session, workspace_id=1, contact_id=contact.id, channel_kind="whatsapp",
                        key="run-9:n:1", kind="text", content={"text": "hola"},
                        now=cauce.clock.now())
    payload = sample("status_sent_pmp_utility_template")
    payload["entry"][0]["changes"][0]["value"]["statuses"][0]["biz_opaque_callback_data"] = \
        "run-9:n:1"
    assert webhook_outcome(wa_api, post_signed(wa_api, payload))["statuses"] == 1
    (msg,) = messages(cauce)
    assert msg.provider_id == OUR_WAMID and msg.status == "sent"


def test_status_for_a_message_we_never_sent_is_ignored(wa_api: TestClient, cauce: Cauce) -> None:
    response = post_signed(wa_api, sample("status_sent_pmp_utility_template"))
    assert response.status_code == 200 and webhook_outcome(wa_api, response)["ignored"] == 1
    assert inputs(cauce) == []


def test_system_error_webhooks_are_logged(wa_api: TestClient,
                                          caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert post_signed(wa_api, sample("webhook_system_errors")).status_code == 200


# ---- bad webhooks ---------------------------------------------------------------------------


def test_missing_signature_is_401(wa_api: TestClient, cauce: Cauce) -> None:
    response = wa_api.post("/webhooks/whatsapp", content=json.dumps(sample("inbound_text")))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert messages(cauce) == []


def test_wrong_signature_is_403(wa_api: TestClient, cauce: Cauce) -> None:
    response = post_signed(wa_api, sample("inbound_text"), secret="not-the-app-secret")
    assert response.status_code == 403 and messages(cauce) == []


def test_a_re_serialised_body_fails_the_signature(wa_api: TestClient) -> None:
    raw = json.dumps(sample("inbound_text"), indent=2).encode()
    response = wa_api.post("/webhooks/whatsapp", content=json.dumps(sample("inbound_text")),
                           headers={"X-Hub-Signature-256": sign(raw, APP_SECRET)})
    assert response.status_code == 403


def test_malformed_json_is_400(wa_api: TestClient) -> None:
    response = post_signed(wa_api, None, raw=b'{"object": "whatsapp_business_account", "ent')
    assert response.status_code == 400 and "JSON" in response.json()["error"]["message"]


def test_not_a_whatsapp_envelope_is_400(wa_api: TestClient) -> None:
    assert post_signed(wa_api, {"hello": "world"}).status_code == 400


def test_unknown_number_is_acknowledged_and_logged(wa_api: TestClient, cauce: Cauce) -> None:
    payload = sample("inbound_text")
    payload["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "999"
    response = post_signed(wa_api, payload)
    # 200 so Meta stops retrying a number we do not serve; nothing is stored.
    assert response.status_code == 200
    outcome = webhook_outcome(wa_api, response)
    assert outcome["ignored"] == 1 and "999" in outcome["problems"][0]
    assert messages(cauce) == []


def test_a_bad_item_never_loses_the_valid_ones_in_the_same_batch(
    wa_api: TestClient, cauce: Cauce
) -> None:
    payload = sample("inbound_text")
    value = payload["entry"][0]["changes"][0]["value"]
    good = value["messages"][0]
    unknown = {**good, "id": "wamid.UNKNOWN", "type": "hologram", "hologram": {}}
    broken = {"type": "text", "text": {"body": "no id or from"}}
    bad_ts = {**good, "id": "wamid.BADTS", "timestamp": "yesterday"}
    second = copy.deepcopy(good)
    second["id"], second["text"]["body"] = "wamid.SECOND", "Second message"
    value["messages"] = [unknown, broken, good, bad_ts, second]
    other_number = copy.deepcopy(payload["entry"][0]["changes"][0])
    other_number["value"]["metadata"]["phone_number_id"] = "555"
    payload["entry"][0]["changes"].append(other_number)
    response = post_signed(wa_api, payload)
    assert response.status_code == 200
    body = webhook_outcome(wa_api, response)
    assert body["messages"] == 3  # the unknown type (kept as unsupported) and two texts
    assert len(body["problems"]) >= 3
    stored = {m.provider_id: m for m in messages(cauce)}
    assert stored["wamid.UNKNOWN"].kind == "unsupported"
    assert stored["wamid.SECOND"].text == "Second message"
    assert good["id"] in stored and "wamid.BADTS" not in stored


def test_two_numbers_route_to_their_own_workspace_channels(
    api: TestClient, graph: FakeGraphApi, cauce: Cauce
) -> None:
    connect_whatsapp(api, graph.url)
    connect_whatsapp(api, graph.url, phone_number_id="222", app_secret=APP_SECRET,
                     name="Soporte")
    payload = sample("inbound_text")
    second = copy.deepcopy(payload["entry"][0])
    second["changes"][0]["value"]["metadata"]["phone_number_id"] = "222"
    second["changes"][0]["value"]["messages"][0]["id"] = "wamid.OTHER"
    payload["entry"].append(second)
    assert webhook_outcome(api, post_signed(api, payload))["messages"] == 2
    channels = {m.provider_id: m.channel_id for m in messages(cauce)}
    assert len(set(channels.values())) == 2


def test_template_status_updates_mirror_metas_decision(wa_api: TestClient, cauce: Cauce) -> None:
    channel_id = wa_api.get("/api/v1/channels").json()["items"][0]["id"]
    wa_api.post(f"/api/v1/channels/{channel_id}/templates",
                json={"name": "promo_otono", "language": "es_AR", "category": "marketing"})
    payload = {"object": "whatsapp_business_account", "entry": [{
        "id": "102290129340398", "time": 1750000000, "changes": [{
            "field": "message_template_status_update",
            "value": {"event": "PAUSED", "message_template_id": 1234,
                      "message_template_name": "promo_otono",
                      "message_template_language": "es_AR",
                      "reason": "Low quality: many users blocked this business"}}]}]}
    response = post_signed(wa_api, payload)
    assert response.status_code == 200 and webhook_outcome(wa_api, response)["statuses"] == 1
    (template,) = wa_api.get(f"/api/v1/channels/{channel_id}/templates").json()["items"]
    assert template["status"] == "paused"


# ---- stored raw, answered, parsed by the runtime --------------------------------------------


def _post_only(client: TestClient, payload: Any, secret: str = APP_SECRET) -> Any:
    """Post without parsing afterwards (post_signed drains the stored webhooks)."""
    body = json.dumps(payload).encode()
    return client.post("/webhooks/whatsapp", content=body, headers={
        "Content-Type": "application/json", "X-Hub-Signature-256": sign(body, secret)})


def _stored(cauce: Cauce) -> list[InboundWebhook]:
    with cauce.transaction() as session:
        return list(session.scalars(select(InboundWebhook).order_by(InboundWebhook.id)))


def test_the_answer_comes_once_the_raw_body_is_committed(wa_api: TestClient,
                                                        cauce: Cauce) -> None:
    payload = sample("inbound_text")
    response = _post_only(wa_api, payload)
    assert response.status_code == 200, response.text
    # Durable before the answer: the row is committed (a new session sees it), nothing is
    # parsed yet, so a process that dies now loses nothing.
    (row,) = _stored(cauce)
    assert row.id == response.json()["webhook_id"] and row.status == "pending"
    assert json.loads(row.body) == payload and row.signature.startswith("sha256=")
    assert messages(cauce) == [] and inputs(cauce) == []
    assert "cauce_webhooks_pending 1.0" in wa_api.get("/metrics").text
    assert webhook_inbox.drain(cauce) == 1
    (row,) = _stored(cauce)
    assert row.status == "done" and row.result is not None and row.result["messages"] == 1
    assert [m.provider_id for m in messages(cauce)] == [good_id(payload)]
    assert len(inputs(cauce)) == 1
    assert webhook_inbox.drain(cauce) == 0  # settled once


def good_id(payload: dict[str, Any]) -> str:
    return str(payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"])


def test_each_contacts_inputs_keep_the_order_its_webhooks_arrived_in(
    wa_api: TestClient, cauce: Cauce
) -> None:
    senders = [f"5491150{n:06d}" for n in range(4)]
    expected: dict[str, list[str]] = {f"+{s}": [] for s in senders}
    for k in range(5):
        for sender in senders:
            payload = sample("inbound_text")
            value = payload["entry"][0]["changes"][0]["value"]
            value["contacts"][0]["wa_id"] = sender
            msg = value["messages"][0]
            msg.update({"from": sender, "id": f"wamid.{sender}.{k}"})
            msg["text"]["body"] = f"message {k}"
            assert _post_only(wa_api, payload).status_code == 200
            expected[f"+{sender}"].append(f"wamid.{sender}.{k}")
    while webhook_inbox.drain(cauce, limit=3):  # small batches: order must hold across them
        pass
    with cauce.transaction() as session:
        phones = {c.id: c.phone for c in session.scalars(select(Contact))}
    seen: dict[str, list[str]] = {p: [] for p in expected}
    for inp in inputs(cauce):  # id order = processing order
        seen[str(phones[inp.contact_id])].append(inp.payload["message_id"])
    assert seen == expected


def test_concurrent_webhooks_share_one_commit(cauce: Cauce, demo: Any) -> None:
    writer = GroupCommit(cauce)
    waiting = 11
    first = threading.Event()
    original = writer._flush

    def flush(batch: list[Any]) -> None:
        if not first.is_set():  # hold the first flush until every other writer is queued
            first.set()
            deadline = time.monotonic() + 10
            while len(writer._queue) < waiting - 1 and time.monotonic() < deadline:
                time.sleep(0.005)
        original(batch)

    writer._flush = flush  # type: ignore[method-assign]
    ids: list[int] = []

    def write(n: int) -> None:
        ids.append(writer.write(provider="whatsapp", body=b"{}", signature=f"sha256={n}",
                                received_at=cauce.clock.now()))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(waiting)]
    threads[0].start()
    first.wait(10)
    for t in threads[1:]:
        t.start()
    for t in threads:
        t.join(20)
    assert len(set(ids)) == waiting
    assert writer.flushes == 2  # the first writer alone, then the ten that queued behind it
    assert {r.id for r in _stored(cauce)} == set(ids)


def test_concurrent_async_writers_share_one_commit(cauce: Cauce, demo: Any) -> None:
    writer = GroupCommit(cauce)

    async def burst() -> list[int]:
        return await asyncio.gather(*(
            writer.write_async(provider="whatsapp", body=b"{}", signature=f"sha256={n}",
                               received_at=cauce.clock.now()) for n in range(20)))

    ids = asyncio.run(burst())
    assert len(set(ids)) == 20 and ids == sorted(ids)  # stored in the order they queued
    # the first request starts a flush at once; the 19 queued behind it go in the next one
    assert writer.flushes <= 2
    assert {r.id for r in _stored(cauce)} == set(ids)


def test_a_store_that_fails_answers_503_to_every_waiting_request(
    wa_api: TestClient, cauce: Cauce, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> Any:
        raise OperationalError("INSERT", {}, Exception("database is down"))

    writer = group_commit(cauce)
    monkeypatch.setattr(writer, "cauce", SimpleNamespace(transaction=broken))
    response = post_signed(wa_api, sample("inbound_text"))
    assert response.status_code == 503 and response.json()["error"]["code"] == "unavailable"
    monkeypatch.undo()
    assert _stored(cauce) == []
    assert post_signed(wa_api, sample("inbound_text")).status_code == 200  # not stuck


def test_cached_secrets_are_checked_without_a_query_or_say_a_load_is_needed(
    wa_api: TestClient, cauce: Cauce
) -> None:
    numbers = inbound.WhatsAppNumbers(cauce)
    raw = json.dumps(sample("inbound_text")).encode()
    with pytest.raises(inbound.NeedsLoading):  # cold cache: the route checks off the loop
        inbound.verify_whatsapp(numbers, raw, sign(raw, APP_SECRET), cached_only=True)
    assert inbound.verify_whatsapp(numbers, raw, sign(raw, APP_SECRET)) is None  # loads
    assert inbound.verify_whatsapp(numbers, raw, sign(raw, APP_SECRET), cached_only=True) \
        is None
    with pytest.raises(inbound.NeedsLoading):  # no match: maybe a rotated secret, reload
        inbound.verify_whatsapp(numbers, raw, sign(raw, "forged"), cached_only=True)
    refused = inbound.verify_whatsapp(numbers, raw, sign(raw, "forged"))
    assert refused is not None and refused.status_code == 403


def test_a_number_connected_after_the_cache_was_filled_is_served_at_once(
    api: TestClient, graph: FakeGraphApi, cauce: Cauce
) -> None:
    connect_whatsapp(api, graph.url)
    assert webhook_outcome(api, post_signed(api, sample("inbound_text")))["messages"] == 1
    connect_whatsapp(api, graph.url, phone_number_id="222", app_secret="other-app-secret",
                     name="Soporte")
    payload = sample("inbound_text")
    value = payload["entry"][0]["changes"][0]["value"]
    value["metadata"]["phone_number_id"] = "222"
    value["messages"][0]["id"] = "wamid.OTHER"
    response = post_signed(api, payload, secret="other-app-secret")
    assert response.status_code == 200, response.text
    assert webhook_outcome(api, response)["messages"] == 1


def test_a_rotated_app_secret_is_honoured_on_the_next_webhook(wa_api: TestClient,
                                                              cauce: Cauce) -> None:
    assert post_signed(wa_api, sample("inbound_text")).status_code == 200  # cache filled
    channel_id = wa_api.get("/api/v1/channels").json()["items"][0]["id"]
    updated = wa_api.patch(f"/api/v1/channels/{channel_id}",
                           json={"secrets": {"app_secret": "rotated-secret"}})
    assert updated.status_code == 200, updated.text
    payload = sample("inbound_text")
    payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"] = "wamid.AFTER"
    assert post_signed(wa_api, payload, secret=APP_SECRET).status_code == 403
    response = post_signed(wa_api, payload, secret="rotated-secret")
    assert webhook_outcome(wa_api, response)["messages"] == 1


def test_a_stored_webhook_that_no_longer_verifies_is_kept_as_failed(
    wa_api: TestClient, cauce: Cauce
) -> None:
    # Stored while the old secret was valid; the secret changed before it was parsed.
    body = json.dumps(sample("inbound_text")).encode()
    group_commit(cauce).write(provider="whatsapp", body=body, signature=sign(body, "old"),
                              received_at=cauce.clock.now())
    assert webhook_inbox.drain(cauce) == 1
    (row,) = _stored(cauce)
    assert row.status == "failed" and row.result is not None
    assert row.result["status_code"] == 403 and messages(cauce) == []
    metrics = wa_api.get("/metrics").text
    assert "cauce_webhooks_failed 1.0" in metrics and "cauce_webhooks_pending 0.0" in metrics
    assert 'cauce_webhooks_parsed_total{outcome="failed"}' in metrics


@pytest.mark.parametrize("path", ["set-based", "one by one"])
def test_a_transient_database_error_leaves_the_webhooks_pending_in_order(
    wa_api: TestClient, cauce: Cauce, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    """A deadlock with delivery (or a dropped connection) while parsing is not the webhook's
    fault: nothing of the batch is kept, it is parsed again — never marked failed and lost.
    Whether the batch is parsed at once or (after an unexpected error) webhook by webhook."""
    from sqlalchemy.exc import OperationalError

    from cauce.runtime import ingest
    from cauce.services import inbound

    body = json.dumps(sample("inbound_text")).encode()
    group_commit(cauce).write(provider="whatsapp", body=body, signature=sign(body, APP_SECRET),
                              received_at=cauce.clock.now())

    def deadlocked(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("UPDATE runtime_outbox ...", {}, Exception("deadlock detected"))

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("unexpected")

    with monkeypatch.context() as patched:
        patched.setattr(ingest, "submit_many", deadlocked)
        if path == "one by one":
            patched.setattr(inbound, "handle_whatsapp_batch", broken)
        with pytest.raises(OperationalError):
            webhook_inbox.drain(cauce)
    (row,) = _stored(cauce)
    assert row.status == "pending" and row.result is None and messages(cauce) == []
    assert webhook_inbox.drain(cauce) == 1
    (row,) = _stored(cauce)
    assert row.status == "done" and len(messages(cauce)) == 1


# ---- a drained batch parsed set-based -------------------------------------------------------


def _text_from(sender: str, wamid: str, name: str = "Ana") -> dict[str, Any]:
    payload = sample("inbound_text")
    value = payload["entry"][0]["changes"][0]["value"]
    value["contacts"][0].update({"wa_id": sender, "profile": {"name": name}})
    value["messages"][0].update({"from": sender, "id": wamid})
    return payload


def _store_all(cauce: Cauce, payloads: list[dict[str, Any]]) -> None:
    for payload in payloads:
        body = json.dumps(payload).encode()
        group_commit(cauce).write(provider="whatsapp", body=body,
                                  signature=sign(body, APP_SECRET),
                                  received_at=cauce.clock.now())


@pytest.mark.parametrize("path", ["set-based", "one by one"])
def test_a_batch_parsed_at_once_does_what_webhooks_parsed_alone_do(
    wa_api: TestClient, cauce: Cauce, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    """One drain, one batch: new and known senders, a redelivery inside the batch, a status
    found by our key that gives the message its wamid, then one found by that wamid."""
    from cauce.services import inbound

    if path == "one by one":  # what the drain falls back to
        monkeypatch.setattr(inbound, "handle_whatsapp_batch", lambda *a: 1 / 0)
    with cauce.transaction() as session:  # sent, outcome unknown: no wamid recorded yet
        known = inbound.find_or_create_contact(session, 1, phone=WA_ID, name=None,
                                               now=cauce.clock.now())
        record_outbound(session, workspace_id=1, contact_id=known.id, channel_kind="whatsapp",
                        key="run-1:ask:1", kind="text", content={"body": "?"},
                        now=cauce.clock.now(), run_id="run-1", node_id="ask")
    sent = sample("status_sent_legacy_cbp")
    sent["entry"][0]["changes"][0]["value"]["statuses"][0]["biz_opaque_callback_data"] = \
        "run-1:ask:1"
    new = "5491150000001"
    _store_all(cauce, [
        _text_from(new, "wamid.A1"), sent, _text_from(WA_ID, "wamid.K1", name="Kim"),
        _text_from(new, "wamid.A2", name="Other"), _text_from(new, "wamid.A1"),
        sample("status_delivered_pmp_free_customer_service"),
    ])
    assert webhook_inbox.drain(cauce, budget_seconds=60) == 6
    rows = _stored(cauce)
    assert [r.status for r in rows] == ["done"] * 6
    assert [(r.result or {})["messages"] for r in rows] == [1, 0, 1, 1, 0, 0]
    assert [(r.result or {})["statuses"] for r in rows] == [0, 1, 0, 0, 0, 1]
    assert [(r.result or {})["duplicates"] for r in rows] == [0, 0, 0, 0, 1, 0]
    ana, kim = contact_by_phone(cauce, f"+{new}"), contact_by_phone(cauce, f"+{WA_ID}")
    assert (ana.name, ana.first_name, ana.source) == ("Ana", "Ana", "inbound")
    assert (kim.id, kim.name) == (known.id, "Kim")  # a profile name fills an empty name
    assert ana.last_inbound_at is not None and kim.last_inbound_at is not None
    outbound = [m for m in messages(cauce) if m.direction == "out"]
    assert outbound[0].provider_id == OUR_WAMID and outbound[0].status == "delivered"
    assert [(i.contact_id, i.kind, i.payload.get("message_id") or i.payload["status"],
             i.payload.get("first_in_conversation")) for i in inputs(cauce)] == [
        (ana.id, "message", "wamid.A1", True), (known.id, "delivery", "sent", None),
        (known.id, "message", "wamid.K1", True), (ana.id, "message", "wamid.A2", False),
        (known.id, "delivery", "delivered", None)]


def test_one_bad_webhook_in_a_batch_fails_alone(
    wa_api: TestClient, cauce: Cauce, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cauce.services import inbound

    real = inbound._incoming_from_whatsapp

    def incoming(channel: Any, msg: Any) -> Any:
        if msg.provider_id == "wamid.BAD":
            raise RuntimeError("a bug this webhook hits")
        return real(channel, msg)

    monkeypatch.setattr(inbound, "_incoming_from_whatsapp", incoming)
    _store_all(cauce, [_text_from("5491150000001", "wamid.1"),
                       _text_from("5491150000002", "wamid.BAD"),
                       _text_from("5491150000001", "wamid.2")])
    assert webhook_inbox.drain(cauce, budget_seconds=60) == 3
    rows = _stored(cauce)
    assert [r.status for r in rows] == ["done", "failed", "done"]
    assert rows[1].result is not None and "a bug this webhook hits" in rows[1].result["error"]
    assert [i.payload["message_id"] for i in inputs(cauce)] == ["wamid.1", "wamid.2"]


def test_a_contact_another_writer_created_meanwhile_is_used_not_duplicated(
    wa_api: TestClient, cauce: Cauce, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch looks its senders up, then inserts the missing ones; a contact with the same
    phone committed in between (the CRM, an import) makes the insert skip it (ON CONFLICT DO
    NOTHING), and the message goes to that contact."""
    from cauce.services import inbound

    with cauce.transaction() as session:
        theirs = inbound.find_or_create_contact(session, 1, phone="5491150000001",
                                                name="Typed by staff", now=cauce.clock.now())
    real, calls = inbound._live_contacts, []

    def looked_up_before_it_was_committed(session: Any, pairs: Any) -> Any:
        calls.append(pairs)
        return {} if len(calls) == 1 else real(session, pairs)

    monkeypatch.setattr(inbound, "_live_contacts", looked_up_before_it_was_committed)
    _store_all(cauce, [_text_from("5491150000001", "wamid.1")])
    assert webhook_inbox.drain(cauce, budget_seconds=60) == 1
    assert len(calls) == 2 and _stored(cauce)[0].status == "done"
    with cauce.transaction() as session:
        assert [c.id for c in session.scalars(select(Contact))] == [theirs.id]
    (inp,) = inputs(cauce)
    assert inp.contact_id == theirs.id
    assert contact_by_phone(cauce, "+5491150000001").name == "Typed by staff"


def test_a_contact_insert_racing_another_uncommitted_writer_waits_and_uses_its_row(
    wa_api: TestClient, cauce: Cauce
) -> None:
    """PostgreSQL, for real: another transaction has inserted the sender's phone but not
    committed when the batch inserts its new contacts; the batch's INSERT waits on the unique
    index, skips the row once the other commits, and the message goes to that contact."""
    from sqlalchemy import text

    from cauce.services import inbound

    if cauce.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: no other insert can be in flight")
    phone = "5491150000009"
    other = cauce.sessions()
    other.begin()
    theirs = inbound.find_or_create_contact(other, 1, phone=phone, name="Typed by staff",
                                            now=cauce.clock.now())
    other.flush()  # the row and its unique-index entry exist, uncommitted
    xid = other.scalar(text("SELECT (pg_current_xact_id()::text::bigint % 4294967296)::text"))
    _store_all(cauce, [_text_from(phone, "wamid.RACE")])
    drained: list[Any] = []
    drainer = threading.Thread(target=lambda: drained.append(
        webhook_inbox.drain(cauce, budget_seconds=60)))
    drainer.start()
    deadline, waiting = time.monotonic() + 20, 0
    with cauce.engine.connect() as watcher:  # until the drain's INSERT waits for our insert
        while not waiting and time.monotonic() < deadline:
            time.sleep(0.01)
            waiting = int(watcher.scalar(text(
                "SELECT count(*) FROM pg_locks WHERE NOT granted AND locktype = 'transactionid'"
                " AND transactionid::text = :xid"), {"xid": xid}) or 0)
    assert waiting, "the batch's INSERT never waited for the uncommitted contact"
    other.commit()
    other.close()
    drainer.join(30)
    assert drained == [1] and _stored(cauce)[0].status == "done"
    with cauce.transaction() as session:
        assert [c.id for c in session.scalars(
            select(Contact).where(Contact.phone == f"+{phone}"))] == [theirs.id]
    (inp,) = inputs(cauce)
    assert inp.contact_id == theirs.id and inp.payload["message_id"] == "wamid.RACE"
