"""SMS (Twilio and a generic provider), Slack incoming webhooks, signed outbound webhooks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

import pytest

from cauce.channels.base import ErrorAction, OutboundMessage
from cauce.channels.registry import UnknownChannel, get_adapter
from cauce.channels.slack import SlackAdapter
from cauce.channels.sms_http import HttpSmsAdapter, check_config
from cauce.channels.sms_twilio import TwilioAdapter, twilio_signature
from cauce.channels.webhook import WebhookAdapter, verify
from tests.support.fakes.http import FakeServer, Recorded, Reply
from tests.support.fakes.twilio import FakeTwilio


def sms(text: str = "Tu turno es mañana a las 10:00", to: str = "+5491122334455",
        kind: str = "sms", key: str = "run-3:sms:1") -> OutboundMessage:
    return OutboundMessage(key=key, channel="sms", kind=kind, to=to, payload={"text": text})


def twilio_config(server: FakeTwilio) -> dict[str, Any]:
    return {"account_sid": server.account_sid, "auth_token": server.auth_token,
            "from_number": "+15005550006", "api_base_url": server.url,
            "status_callback_url": "https://cauce.example/webhooks/sms/twilio"}


def test_twilio_send(twilio: FakeTwilio) -> None:
    adapter = TwilioAdapter()
    result = adapter.send(sms(), twilio_config(twilio))
    adapter.close()
    assert result.status == "sent" and result.provider_id == "SM" + "0" * 31 + "1"
    assert twilio.messages() == [{
        "To": "+5491122334455", "From": "+15005550006", "Body": "Tu turno es mañana a las 10:00",
        "StatusCallback": "https://cauce.example/webhooks/sms/twilio"}]


@pytest.mark.parametrize(("status", "code", "action"), [
    (400, 21211, ErrorAction.FAIL),
    (400, 21610, ErrorAction.SUPPRESS_MARKETING),
    (401, 20003, ErrorAction.CHANNEL_BROKEN),
    (429, 20429, ErrorAction.RETRY),
    (500, 20500, ErrorAction.RETRY),
])
def test_twilio_errors(twilio: FakeTwilio, status: int, code: int, action: ErrorAction) -> None:
    twilio.fail_next(status, code, "nope")
    adapter = TwilioAdapter()
    result = adapter.send(sms(), twilio_config(twilio))
    adapter.close()
    assert result.error is not None and result.error.action is action


def test_twilio_wrong_token_breaks_the_channel(twilio: FakeTwilio) -> None:
    cfg = twilio_config(twilio) | {"auth_token": "wrong"}
    adapter = TwilioAdapter()
    result = adapter.send(sms(), cfg)
    adapter.close()
    assert result.error is not None and result.error.action is ErrorAction.CHANNEL_BROKEN


def test_twilio_signature_matches_twilios_documented_example() -> None:
    # The worked example from Twilio's "Webhooks security" documentation.
    url = "https://example.com/myapp.php?foo=1&bar=2"
    params = {"CallSid": "CA1234567890ABCDE", "Caller": "+12349013030", "Digits": "1234",
              "From": "+12349013030", "To": "+18005551212"}
    data = url + "".join(f"{k}{params[k]}" for k in sorted(params))
    expected = base64.b64encode(hmac.new(b"12345", data.encode(), hashlib.sha1).digest()).decode()
    assert twilio_signature("12345", url, params) == expected


def test_sms_text_limits() -> None:
    result = TwilioAdapter().send(sms("x" * 1601), {})
    assert result.error is not None and result.error.code == "limit:text"


class FakeSmsProvider(FakeServer):
    """A provider in the style of many local SMS gateways: JSON in, {"data": {"id"}} out."""

    def handle(self, request: Recorded) -> Reply:
        if request.headers.get("x-api-key") != "k-123":
            return Reply(401, {"ok": False, "message": "bad key"})
        body = request.json()
        if body["destino"].startswith("+0"):
            return Reply(200, {"ok": False, "message": "número inválido"})
        return Reply(200, {"ok": True, "data": {"id": f"env-{len(self.requests)}"}})


@pytest.fixture
def provider() -> Iterator[FakeSmsProvider]:
    with FakeSmsProvider() as server:
        yield server  # type: ignore[misc]


def http_config(url: str) -> dict[str, Any]:
    return {"url": f"{url}/api/v1/sms", "method": "POST", "body_format": "json",
            "auth": {"type": "header", "name": "X-Api-Key", "value": "k-123"},
            "body": {"destino": "{{to}}", "mensaje": "{{text}}", "referencia": "{{key}}",
                     "callback": "{{status_url}}"},
            "status_callback_url": "https://cauce.example/webhooks/sms/7?token=t",
            "id_path": "data.id", "success_path": "ok", "success_value": True}


def test_generic_provider_send(provider: FakeSmsProvider) -> None:
    adapter = HttpSmsAdapter()
    text = 'Dijo "hola" \\ y se fue'
    result = adapter.send(sms(text), http_config(provider.url))
    adapter.close()
    assert result.status == "sent" and result.provider_id == "env-1"
    (request,) = provider.requests
    assert request.path == "/api/v1/sms"
    assert request.json() == {"destino": "+5491122334455", "mensaje": text,
                              "referencia": "run-3:sms:1",
                              "callback": "https://cauce.example/webhooks/sms/7?token=t"}


def test_generic_provider_refusal_and_bad_credentials(provider: FakeSmsProvider) -> None:
    adapter = HttpSmsAdapter()
    refused = adapter.send(sms(to="+0123"), http_config(provider.url))
    assert refused.error is not None and "número inválido" in refused.error.reason
    bad = http_config(provider.url)
    bad["auth"] = {"type": "header", "name": "X-Api-Key", "value": "wrong"}
    broken = adapter.send(sms(), bad)
    adapter.close()
    assert broken.error is not None and broken.error.action is ErrorAction.CHANNEL_BROKEN


def test_generic_provider_form_and_query_formats(provider: FakeSmsProvider) -> None:
    cfg = http_config(provider.url) | {"method": "GET", "body_format": "query",
                                       "auth": {"type": "query", "name": "apikey", "value": "z"}}
    problems = check_config(cfg | {"body": {"to": "{{phone}}"}})
    assert problems == ["body: unknown placeholder {{phone}}; use one of to, to_digits, text, "
                        "from, key, status_url"]
    adapter = HttpSmsAdapter()
    adapter.send(sms(), cfg)
    adapter.close()
    (request,) = provider.requests
    assert request.method == "GET" and request.query["destino"] == ["+5491122334455"]
    assert request.query["apikey"] == ["z"]


class FakeSlack(FakeServer):
    def handle(self, request: Recorded) -> Reply:
        if request.path.endswith("/gone"):
            return Reply(404, "no_service")
        if request.path.endswith("/slow"):
            return Reply(429, "rate_limited", {"Retry-After": "30"})
        return Reply(200, "ok")


def test_slack_incoming_webhook() -> None:
    with FakeSlack() as slack:
        adapter = SlackAdapter()
        message = OutboundMessage(key="n-1", channel="slack", kind="text", to="",
                                  payload={"text": "Nuevo lead: Ana (score 80)"})
        ok = adapter.send(message, {"webhook_url": f"{slack.url}/services/T/B/x",
                                    "allow_http": True})
        gone = adapter.send(message, {"webhook_url": f"{slack.url}/gone", "allow_http": True})
        slow = adapter.send(message, {"webhook_url": f"{slack.url}/slow", "allow_http": True})
        adapter.close()
        assert ok.status == "sent" and slack.requests[0].json() == {
            "text": "Nuevo lead: Ana (score 80)"}
        assert gone.error is not None and gone.error.action is ErrorAction.CHANNEL_BROKEN
        assert slow.error is not None and slow.error.retry_after == 30.0


def test_signed_outbound_webhook() -> None:
    with FakeServer() as receiver:
        adapter = WebhookAdapter(now=lambda: 1_750_000_000.0)
        message = OutboundMessage(key="run-1:hook:1", channel="webhook", kind="webhook", to="",
                                  payload={"order": 42})
        result = adapter.send(message, {"url": f"{receiver.url}/hooks", "secret": "whsec"})
        adapter.close()
        assert result.status == "sent"
        (request,) = receiver.requests
        assert request.headers["x-cauce-id"] == "run-1:hook:1"
        assert request.headers["x-cauce-timestamp"] == "1750000000"
        assert json.loads(request.body) == {"id": "run-1:hook:1", "kind": "webhook", "to": "",
                                            "data": {"order": 42}}
        signature = request.headers["x-cauce-signature"]
        assert verify("whsec", "1750000000", request.body, signature, now=1_750_000_010)
        assert not verify("whsec", "1750000000", request.body + b" ", signature,
                          now=1_750_000_010)
        assert not verify("whsec", "1750000000", request.body, signature, now=1_750_001_000)


def test_registry_suggests_the_kind_you_meant() -> None:
    with pytest.raises(UnknownChannel, match="did you mean 'whatsapp'"):
        get_adapter("whatsap")
    with pytest.raises(UnknownChannel, match="known: email, simulator"):
        get_adapter("carrier-pigeon")


def test_simulator_has_whatsapps_limits() -> None:
    adapter = get_adapter("simulator")
    too_many = OutboundMessage(key="k", channel="simulator", kind="buttons", to="549",
                               payload={"body": "?", "buttons": [
                                   {"id": str(i), "title": "t"} for i in range(4)]})
    result = adapter.send(too_many, {})
    assert result.error is not None and result.error.code == "limit:buttons"
    ok = adapter.send(OutboundMessage(key="k2", channel="simulator", kind="text", to="549",
                                      payload={"text": "hola"}), {})
    assert ok.status == "sent" and ok.provider_id == "sim.k2"
