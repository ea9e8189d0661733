"""WhatsApp outbound: exact request bodies, limits, and every reference error code."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from cauce.channels.base import ErrorAction, OutboundMessage
from cauce.channels.registry import get_adapter
from cauce.channels.whatsapp import WhatsAppAdapter
from tests.channels.conftest import sample
from tests.support.fakes.graph_api import FakeGraphApi

TO = "16505551234"


def msg(kind: str, payload: dict[str, Any], key: str = "run1:n1:1",
        category: str = "service") -> OutboundMessage:
    return OutboundMessage(key=key, channel="whatsapp", kind=kind, to=TO, payload=payload,
                           category=category)


def expected(name: str, key: str = "run1:n1:1") -> dict[str, Any]:
    body = sample(name)
    body["biz_opaque_callback_data"] = key
    return body


CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("send_text", "text",
     {"text": "Here is the listing: https://example.com/listing/42", "preview_url": True}),
    ("send_image", "media",
     {"media_type": "image", "link": "https://example.com/img/floorplan.jpg",
      "caption": "Floor plan"}),
    ("send_interactive_buttons", "buttons",
     {"header": "Apartment 42", "body": "Would you like to book a viewing?",
      "footer": "Reply within 24h",
      "buttons": [{"id": "book_viewing", "title": "Book a viewing"},
                  {"id": "more_info", "title": "More info"},
                  {"id": "not_interested", "title": "Not interested"}]}),
    ("send_interactive_list", "list",
     {"header": "Pick a slot", "body": "Choose a viewing time below.",
      "footer": "Times are local", "button": "See times",
      "sections": [
          {"title": "Monday", "rows": [
              {"id": "slot_2025_06_16_1000", "title": "Mon 10:00",
               "description": "Downtown office"},
              {"id": "slot_2025_06_16_1400", "title": "Mon 14:00",
               "description": "Downtown office"}]},
          {"title": "Tuesday", "rows": [{"id": "slot_2025_06_17_1000", "title": "Tue 10:00"}]}]}),
    ("send_template", "template",
     {"name": "viewing_reminder", "language": "en_US",
      "header": [{"type": "image", "link": "https://example.com/img/listing42.jpg"}],
      "body": ["Sheena", "Mon 16 Jun, 10:00"],
      "buttons": [{"index": 0, "payload": "CONFIRM_VIEWING_42"},
                  {"index": 1, "payload": "RESCHEDULE_VIEWING_42"}]}),
]


@pytest.mark.parametrize(("sample_name", "kind", "payload"), CASES,
                         ids=[c[0] for c in CASES])
def test_request_body_is_exactly_metas_shape(
    wa: WhatsAppAdapter, graph: FakeGraphApi, wa_config: dict[str, Any], sample_name: str,
    kind: str, payload: dict[str, Any],
) -> None:
    result = wa.send(msg(kind, payload), wa_config)
    assert result.status == "sent", result.error
    assert result.provider_id == "wamid.FAKE00000001"
    (request,) = graph.sends()
    assert request.path == "/v23.0/106540352242922/messages"
    assert request.headers["authorization"] == "Bearer EAAG-test-token"
    assert request.json() == expected(sample_name)


def test_named_template_parameters(
    wa: WhatsAppAdapter, graph: FakeGraphApi, wa_config: dict[str, Any]) -> None:
    payload = {"name": "order_update", "language": "en",
               "body": [{"name": "first_name", "text": "Sheena"}]}
    assert wa.send(msg("template", payload), wa_config).status == "sent"
    want = expected("send_template_named_params")
    # We always send the two documented defaults the minimal sample leaves out.
    want["recipient_type"] = "individual"
    want["template"]["language"]["policy"] = "deterministic"
    assert graph.sent_bodies() == [want]


def test_reply_context_is_sent(
    wa: WhatsAppAdapter, graph: FakeGraphApi, wa_config: dict[str, Any]) -> None:
    wa.send(msg("text", {"text": "ok", "reply_to": "wamid.X"}), wa_config)
    assert graph.sent_bodies()[0]["context"] == {"message_id": "wamid.X"}


def test_the_registry_returns_the_same_adapter() -> None:
    assert get_adapter("whatsapp") is get_adapter("whatsapp")
    assert get_adapter("whatsapp").kind == "whatsapp"


LIMITS: list[tuple[str, dict[str, Any], str]] = [
    ("text", {"text": "x" * 4097}, "text: is 4097 characters; WhatsApp allows at most 4096"),
    ("text", {"text": ""}, "text: is required"),
    ("buttons", {"body": "b", "buttons": [{"id": str(i), "title": "t"} for i in range(4)]},
     "buttons: WhatsApp needs 1 to 3 reply buttons; got 4"),
    ("buttons", {"body": "b", "buttons": [{"id": "a", "title": "x" * 21}]},
     "buttons[0].title: is 21 characters; WhatsApp allows at most 20"),
    ("buttons", {"body": "b" * 1025, "buttons": [{"id": "a", "title": "t"}]},
     "body: is 1025 characters; WhatsApp allows at most 1024"),
    ("buttons", {"body": "b", "footer": "f" * 61, "buttons": [{"id": "a", "title": "t"}]},
     "footer: is 61 characters; WhatsApp allows at most 60"),
    ("buttons", {"body": "b", "buttons": [{"id": "a", "title": "t"}, {"id": "a", "title": "u"}]},
     "buttons[1].id: 'a' is used by two buttons"),
    ("list", {"body": "b", "button": "Ver", "sections": [
        {"title": "s", "rows": [{"id": str(i), "title": "t"} for i in range(11)]}]},
     "sections: 11 rows in total; WhatsApp allows at most 10"),
    ("list", {"body": "b", "button": "Ver", "sections": [
        {"rows": [{"id": "a", "title": "x" * 25}]}]},
     "sections[0].rows[0].title: is 25 characters; WhatsApp allows at most 24"),
    ("list", {"body": "b", "button": "Ver", "sections": [
        {"rows": [{"id": "a", "title": "t", "description": "d" * 73}]}]},
     "sections[0].rows[0].description: is 73 characters; WhatsApp allows at most 72"),
    ("list", {"body": "b", "button": "x" * 21, "sections": [{"rows": [{"id": "a", "title": "t"}]}]},
     "button: is 21 characters; WhatsApp allows at most 20"),
    ("media", {"media_type": "audio", "link": "https://x/a.ogg", "caption": "c"},
     "caption: WhatsApp does not show captions on audio"),
    ("media", {"media_type": "gif", "link": "https://x"},
     "media_type: must be one of image, video, document, audio, sticker"),
    ("email", {"subject": "x"}, "kind: WhatsApp cannot send 'email' messages"),
]


@pytest.mark.parametrize(("kind", "payload", "reason"), LIMITS)
def test_limits_are_checked_before_sending(
    wa: WhatsAppAdapter, graph: FakeGraphApi, wa_config: dict[str, Any], kind: str,
    payload: dict[str, Any], reason: str,
) -> None:
    result = wa.send(msg(kind, payload), wa_config)
    assert result.status == "failed" and result.error is not None
    assert result.error.reason.startswith(reason)
    assert result.error.action is ErrorAction.FAIL
    assert graph.sends() == []


# code → (action, words the reason must contain)
ERRORS: dict[int, tuple[ErrorAction, str]] = {
    131047: (ErrorAction.FALLBACK_TEMPLATE, "window closed"),
    131026: (ErrorAction.FAIL, "undeliverable"),
    130429: (ErrorAction.RETRY, "throughput"),
    131056: (ErrorAction.RETRY, "too many messages to this contact"),
    131049: (ErrorAction.SUPPRESS_MARKETING, "marketing"),
    131050: (ErrorAction.SUPPRESS_MARKETING, "stopped marketing"),
    132000: (ErrorAction.FAIL, "template 'promo_otono': the number of parameters"),
    132001: (ErrorAction.FAIL, "template 'promo_otono' does not exist"),
    132015: (ErrorAction.FAIL, "template 'promo_otono' is paused"),
    132016: (ErrorAction.FAIL, "template 'promo_otono' is disabled"),
    131000: (ErrorAction.RETRY, "retrying"),
    2: (ErrorAction.RETRY, "temporarily unavailable"),
    190: (ErrorAction.CHANNEL_BROKEN, "access token expired"),
}


@pytest.mark.parametrize("code", sorted(ERRORS))
def test_each_reference_error_code_is_mapped(
    wa: WhatsAppAdapter, graph: FakeGraphApi, wa_config: dict[str, Any], code: int
) -> None:
    graph.fail_next(code)
    payload = {"name": "promo_otono", "language": "es_AR", "body": ["Ana"]}
    result = wa.send(msg("template", payload), wa_config)
    action, words = ERRORS[code]
    assert result.status == "failed" and result.error is not None
    assert result.error.code == str(code)
    assert result.error.action is action
    assert words in result.error.reason
    assert result.error.retryable is (action is ErrorAction.RETRY)


@pytest.mark.parametrize("name", ["send_response_error_130429", "send_response_error_131047",
                                  "send_response_error_190"])
def test_the_shared_error_samples_map(
    wa: WhatsAppAdapter, graph: FakeGraphApi, wa_config: dict[str, Any], name: str
) -> None:
    body = sample(name)
    status = {130429: 429, 131047: 400, 190: 401}[body["error"]["code"]]
    graph.fail_next_raw(status, body)
    result = wa.send(msg("text", {"text": "hola"}), wa_config)
    assert result.error is not None and result.error.code == str(body["error"]["code"])


def test_retry_after_is_honoured(
    wa: WhatsAppAdapter, graph: FakeGraphApi, wa_config: dict[str, Any]) -> None:
    graph.fail_next(130429, headers={"Retry-After": "7"})
    result = wa.send(msg("text", {"text": "hola"}), wa_config)
    assert result.error is not None and result.error.retry_after == 7.0


def test_5xx_without_json_is_retried(
    wa: WhatsAppAdapter, graph: FakeGraphApi, wa_config: dict[str, Any]) -> None:
    graph.fail_next_raw(502, "<html>Bad gateway</html>")
    result = wa.send(msg("text", {"text": "hola"}), wa_config)
    assert result.error is not None
    assert (result.error.code, result.error.action) == ("http_502", ErrorAction.RETRY)


def test_an_unreachable_api_is_retried(wa: WhatsAppAdapter, wa_config: dict[str, Any]) -> None:
    wa_config["graph_base_url"] = "http://127.0.0.1:9"  # discard port: connection refused
    result = wa.send(msg("text", {"text": "hola"}), wa_config)
    assert result.error is not None
    assert (result.error.code, result.error.action) == ("network", ErrorAction.RETRY)



def test_an_api_that_never_answers_times_out_and_is_retried(
    wa: WhatsAppAdapter, wa_config: dict[str, Any]
) -> None:
    # A listening socket nobody reads: the connection opens, the answer never comes, and the
    # channel's timeout_seconds (not a hang) ends the call.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        wa_config["graph_base_url"] = f"http://127.0.0.1:{silent.getsockname()[1]}"
        wa_config["timeout_seconds"] = 0.2
        result = wa.send(msg("text", {"text": "hola"}), wa_config)
    assert result.error is not None
    assert (result.error.code, result.error.action) == ("timeout", ErrorAction.RETRY)

def test_non_approved_templates_are_refused_before_sending(
    wa: WhatsAppAdapter, graph: FakeGraphApi, wa_config: dict[str, Any]
) -> None:
    wa_config["templates"] = {"promo:es_AR": "PAUSED", "hola:es_AR": "APPROVED"}
    adapter = wa
    paused = adapter.send(msg("template", {"name": "promo", "language": "es_AR"}), wa_config)
    assert paused.error is not None
    assert paused.error.reason == "template 'promo' (es_AR) is paused, not approved; it cannot " \
        "be sent"
    unknown = adapter.send(msg("template", {"name": "nope", "language": "es_AR"}), wa_config)
    assert unknown.error is not None and "not in this number's template registry" in \
        unknown.error.reason
    assert graph.sends() == []
    ok = adapter.send(msg("template", {"name": "hola", "language": "es_AR"}), wa_config)
    assert ok.status == "sent"


def test_flaky_provider_delivers_every_message_exactly_once(
    wa: WhatsAppAdapter, graph: FakeGraphApi, wa_config: dict[str, Any]
) -> None:
    """30% of answers are 429/5xx; re-sending only what the adapter calls retryable (as the
    delivery loop does) gets all 200 messages accepted once each."""
    graph.flaky(0.3, seed=42)
    adapter = wa
    pending = [msg("text", {"text": f"mensaje {i}"}, key=f"k{i}") for i in range(200)]
    attempts = 0
    while pending and attempts < 2000:
        message = pending.pop(0)
        attempts += 1
        result = adapter.send(message, wa_config)
        if result.status == "failed":
            assert result.error is not None and result.error.retryable, result.error
            pending.append(message)
    assert pending == []
    assert len(graph.accepted) == 200
    assert graph.duplicates() == {}
    assert len(graph.sends()) > 200  # the fake really did fail some
