"""Signed outbound webhooks for integrations.

Each delivery is ``POST url`` with a JSON body and three headers: ``X-Cauce-Id`` (our message
key, stable across retries so receivers can de-duplicate), ``X-Cauce-Timestamp`` (unix
seconds) and ``X-Cauce-Signature: sha256=<hex HMAC-SHA256 of "{timestamp}.{body}">`` keyed with
the channel's secret. Signing the timestamp lets receivers reject replays.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

from cauce.channels.base import (
    Capabilities,
    ChannelError,
    ErrorAction,
    OutboundMessage,
    SendResult,
)
from cauce.channels.http import (
    PooledClient,
    TransportError,
    status_error,
    timeout_from,
    transport_error,
)
from cauce.limits import MAX_WEBHOOK_BODY_BYTES

CAPABILITIES = Capabilities(kinds=frozenset({"webhook", "text", "event"}),
                            max_body=MAX_WEBHOOK_BODY_BYTES, rate_per_second=50.0)
SIGNATURE_HEADER = "X-Cauce-Signature"
TIMESTAMP_HEADER = "X-Cauce-Timestamp"
ID_HEADER = "X-Cauce-Id"
DEFAULT_TOLERANCE_SECONDS = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify(secret: str, timestamp: str, body: bytes, given: str, now: float,
           tolerance: int = DEFAULT_TOLERANCE_SECONDS) -> bool:
    """What a receiver runs: the signature matches and the timestamp is recent."""
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    if abs(now - ts) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, ts, body).encode(), given.encode())


class WebhookAdapter:
    """``config``: url, secret, optional headers and timeout_seconds."""

    kind = "webhook"
    capabilities = CAPABILITIES
    rate_per_second = CAPABILITIES.rate_per_second
    max_body = CAPABILITIES.max_body

    def __init__(self, now: Callable[[], float] = time.time) -> None:
        self._pool = PooledClient()
        self._now = now

    def close(self) -> None:
        """Close pooled connections (the process-wide adapters live until exit)."""
        self._pool.close()

    def send(self, message: OutboundMessage, config: dict[str, Any]) -> SendResult:
        url = str(config.get("url") or "")
        if not url.startswith(("https://", "http://")):
            return SendResult.failed(ChannelError(
                "config", "the webhook channel needs an http(s) URL", ErrorAction.CHANNEL_BROKEN))
        body = json.dumps({"id": message.key, "kind": message.kind, "to": message.to,
                           "data": message.payload}, separators=(",", ":"),
                          ensure_ascii=False).encode()
        if len(body) > MAX_WEBHOOK_BODY_BYTES:
            return SendResult.failed(ChannelError(
                "limit:body", f"body: {len(body)} bytes; at most {MAX_WEBHOOK_BODY_BYTES}",
                ErrorAction.FAIL))
        ts = int(self._now())
        headers = {str(k): str(v) for k, v in dict(config.get("headers") or {}).items()}
        headers.update({"Content-Type": "application/json", ID_HEADER: message.key,
                        TIMESTAMP_HEADER: str(ts)})
        secret = str(config.get("secret") or "")
        if secret:
            headers[SIGNATURE_HEADER] = signature(secret, ts, body)
        try:
            response = self._pool.client.post(
                url, content=body, headers=headers, timeout=timeout_from(config))
        except TransportError as exc:
            return SendResult.failed(transport_error(exc, "the webhook receiver"))
        if response.is_success:
            return SendResult.sent(message.key, raw={"status": response.status_code})
        return SendResult.failed(status_error(response, "the webhook receiver"))
