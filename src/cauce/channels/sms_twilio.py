"""SMS through Twilio's Messages REST API, and Twilio's webhooks (status callbacks, inbound).

``config``: account_sid, auth_token, from_number or messaging_service_sid, optional api_base_url
(tests point it at a fake), status_callback_url (Cauce's ``/webhooks/sms/twilio``),
timeout_seconds.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from cauce.channels.base import (
    Capabilities,
    ChannelError,
    ErrorAction,
    OutboundMessage,
    SendResult,
)
from cauce.channels.http import (
    HttpResponse,
    PooledClient,
    TransportError,
    json_or_empty,
    retry_after_seconds,
    status_error,
    timeout_from,
    transport_error,
)

DEFAULT_API_BASE_URL = "https://api.twilio.com"
SMS_BODY_MAX = 1600  # Twilio's limit for one message (split into segments by the carrier)
CAPABILITIES = Capabilities(kinds=frozenset({"sms", "text"}), max_body=SMS_BODY_MAX,
                            rate_per_second=1.0)
SIGNATURE_HEADER = "X-Twilio-Signature"
PROVIDER = "Twilio"

# Twilio error codes that need something other than "fail this message".
_BROKEN = {20003: "Twilio rejected the account SID or auth token",
           20404: "the Twilio account or number was not found",
           21606: "the From number cannot send SMS; pick an SMS-capable number"}
_SUPPRESS = {21610: "the recipient replied STOP to this number; Twilio blocks further SMS"}
_RETRY = {20429: "Twilio is rate limiting us", 30001: "Twilio's queue overflowed"}

# Twilio MessageStatus → ours (None: informational, not a delivery report).
STATUS_MAP: dict[str, str | None] = {
    "accepted": None, "scheduled": None, "queued": None, "sending": None,
    "sent": "sent", "delivered": "delivered", "read": "read",
    "undelivered": "failed", "failed": "failed", "canceled": "failed",
}


def text_of(message: OutboundMessage) -> str:
    return str(message.payload.get("text") or "")


def check_text(text: str) -> ChannelError | None:
    if not text:
        return ChannelError("limit:text", "text: an SMS needs text", ErrorAction.FAIL)
    if len(text) > SMS_BODY_MAX:
        return ChannelError("limit:text", f"text: {len(text)} characters; SMS allows at most "
                            f"{SMS_BODY_MAX}", ErrorAction.FAIL)
    return None


def twilio_signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """Twilio's request signature: base64 HMAC-SHA1 of the URL plus the sorted POST params."""
    data = url + "".join(f"{k}{params[k]}" for k in sorted(params))
    mac = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(mac).decode()


def verify_twilio(auth_token: str, url: str, params: Mapping[str, str], given: str) -> bool:
    expected = twilio_signature(auth_token, url, params)
    return hmac.compare_digest(expected.encode(), given.encode())


class TwilioAdapter:
    kind = "sms_twilio"
    capabilities = CAPABILITIES
    rate_per_second = CAPABILITIES.rate_per_second
    max_body = CAPABILITIES.max_body

    def __init__(self) -> None:
        self._pool = PooledClient()

    def close(self) -> None:
        """Close pooled connections (the process-wide adapters live until exit)."""
        self._pool.close()

    def send(self, message: OutboundMessage, config: dict[str, Any]) -> SendResult:
        text = text_of(message)
        problem = check_text(text)
        if problem:
            return SendResult.failed(problem)
        sid, token = str(config.get("account_sid") or ""), str(config.get("auth_token") or "")
        if not sid or not token:
            return SendResult.failed(ChannelError(
                "config", "the Twilio channel needs account_sid and auth_token",
                ErrorAction.CHANNEL_BROKEN))
        form = {"To": message.to if message.to.startswith("+") else f"+{message.to}",
                "Body": text}
        if config.get("messaging_service_sid"):
            form["MessagingServiceSid"] = str(config["messaging_service_sid"])
        elif config.get("from_number"):
            form["From"] = str(config["from_number"])
        else:
            return SendResult.failed(ChannelError(
                "config", "the Twilio channel needs from_number or messaging_service_sid",
                ErrorAction.CHANNEL_BROKEN))
        if config.get("status_callback_url"):
            form["StatusCallback"] = str(config["status_callback_url"])
        base = str(config.get("api_base_url") or DEFAULT_API_BASE_URL).rstrip("/")
        url = f"{base}/2010-04-01/Accounts/{sid}/Messages.json"
        try:
            response = self._pool.client.post(
                url, data=form, auth=(sid, token), timeout=timeout_from(config))
        except TransportError as exc:
            return SendResult.failed(transport_error(exc, PROVIDER))
        data = json_or_empty(response)
        if response.is_success and data.get("sid"):
            return SendResult.sent(str(data["sid"]), raw=data)
        return SendResult.failed(_map(response, data), raw=data)


def _map(response: HttpResponse, data: dict[str, Any]) -> ChannelError:
    raw_code = data.get("code")
    code = int(raw_code) if isinstance(raw_code, int) else None
    detail = str(data.get("message") or "")
    if code in _BROKEN:
        return ChannelError(str(code), f"{_BROKEN[code]}: {detail}".rstrip(": "),
                            ErrorAction.CHANNEL_BROKEN)
    if code in _SUPPRESS:
        return ChannelError(str(code), _SUPPRESS[code], ErrorAction.SUPPRESS_MARKETING)
    if code in _RETRY:
        return ChannelError(str(code), f"{_RETRY[code]}; retrying", ErrorAction.RETRY,
                            retry_after_seconds(response))
    if response.status_code in (401, 429) or response.status_code >= 500 or code is None:
        return status_error(response, PROVIDER)
    return ChannelError(str(code), f"Twilio refused the SMS: {detail or 'error ' + str(code)}",
                        ErrorAction.FAIL)
