"""Slack incoming webhooks, for team notifications (``config``: ``webhook_url``)."""

from __future__ import annotations

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
    retry_after_seconds,
    status_error,
    timeout_from,
    transport_error,
)

SLACK_TEXT_MAX = 40_000  # Slack truncates longer messages
CAPABILITIES = Capabilities(kinds=frozenset({"text"}), max_body=SLACK_TEXT_MAX,
                            rate_per_second=1.0)
PROVIDER = "Slack"


class SlackAdapter:
    kind = "slack"
    capabilities = CAPABILITIES
    rate_per_second = CAPABILITIES.rate_per_second
    max_body = CAPABILITIES.max_body

    def __init__(self) -> None:
        self._pool = PooledClient()

    def close(self) -> None:
        """Close pooled connections (the process-wide adapters live until exit)."""
        self._pool.close()

    def send(self, message: OutboundMessage, config: dict[str, Any]) -> SendResult:
        text = str(message.payload.get("text") or "")
        if not text:
            return SendResult.failed(ChannelError("limit:text", "text: is required",
                                                  ErrorAction.FAIL))
        if len(text) > SLACK_TEXT_MAX:
            return SendResult.failed(ChannelError(
                "limit:text", f"text: {len(text)} characters; Slack allows {SLACK_TEXT_MAX}",
                ErrorAction.FAIL))
        url = str(config.get("webhook_url") or "")
        if not url.startswith("https://") and not config.get("allow_http"):
            return SendResult.failed(ChannelError(
                "config", "the Slack channel needs an https:// incoming-webhook URL",
                ErrorAction.CHANNEL_BROKEN))
        body: dict[str, Any] = {"text": text}
        if message.payload.get("blocks"):
            body["blocks"] = message.payload["blocks"]
        try:
            response = self._pool.client.post(
                url, json=body, timeout=timeout_from(config))
        except TransportError as exc:
            return SendResult.failed(transport_error(exc, PROVIDER))
        if response.is_success:
            return SendResult.sent(message.key, raw={"answer": response.text[:200]})
        answer = response.text.strip()[:200]
        if response.status_code == 400:  # invalid_payload, invalid_blocks...
            return SendResult.failed(ChannelError(
                "http_400", f"Slack refused the message: {answer or 'invalid payload'}",
                ErrorAction.FAIL))
        if response.status_code in (403, 404, 410):  # no_service, action_prohibited...
            return SendResult.failed(ChannelError(
                f"http_{response.status_code}", f"Slack says the webhook is gone or disabled "
                f"({answer or response.status_code}); create a new incoming webhook",
                ErrorAction.CHANNEL_BROKEN))
        error = status_error(response, PROVIDER)
        if response.status_code == 429 and error.retry_after is None:
            error = ChannelError(error.code, error.reason, error.action,
                                 retry_after_seconds(response) or 1.0)
        return SendResult.failed(error)
