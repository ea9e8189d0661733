"""What every channel adapter speaks: outbound messages in, typed results out.

Adapters are registered in ``cauce.channels.registry`` (an explicit table). The runtime's
delivery loop builds an :class:`OutboundMessage` from a ``MessageRequested`` event, calls
``adapter.send(message, config)``, and acts on the :class:`SendResult`: a retryable error is
retried with backoff (honouring ``retry_after``), a final one takes the step's ``failed`` exit
with ``reason`` shown in the editor, and ``action`` says what else to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal, Protocol


class ErrorAction(StrEnum):
    RETRY = "retry"  # transient: back off and try again
    FAIL = "fail"  # final: the step takes its failed exit
    FALLBACK_TEMPLATE = "fallback_template"  # window closed: send the template fallback instead
    SUPPRESS_MARKETING = "suppress_marketing"  # the contact opted out / hit the marketing cap
    CHANNEL_BROKEN = "channel_broken"  # credentials rejected: stop the channel, alert the owner


@dataclass(frozen=True)
class ChannelError:
    """A provider problem, mapped at the edge into our terms."""

    code: str  # the provider's code as text ("131047", "http_503", "smtp_550", "timeout")
    reason: str  # a sentence the editor can show
    action: ErrorAction
    retry_after: float | None = None  # seconds, from Retry-After or the provider's advice

    @property
    def retryable(self) -> bool:
        return self.action is ErrorAction.RETRY


@dataclass(frozen=True)
class SendResult:
    status: Literal["sent", "failed"]
    provider_id: str | None = None
    error: ChannelError | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def sent(cls, provider_id: str, raw: dict[str, Any] | None = None) -> SendResult:
        return cls("sent", provider_id=provider_id, raw=raw or {})

    @classmethod
    def failed(cls, error: ChannelError, raw: dict[str, Any] | None = None) -> SendResult:
        return cls("failed", error=error, raw=raw or {})


@dataclass(frozen=True)
class OutboundMessage:
    """A message to send, channel-neutral.

    ``kind`` and ``payload`` mirror ``MessageRequested``:
    - text:     {"text": str, "preview_url": bool}
    - template: {"name": str, "language": str, "header": [...params], "body": [...params],
                 "buttons": [{"index": int, "payload": str}]}
    - buttons:  {"body": str, "header": str|None, "footer": str|None,
                 "buttons": [{"id": str, "title": str}]}
    - list:     {"body": str, "button": str, "sections": [{"title": str,
                 "rows": [{"id": str, "title": str, "description": str}]}]}
    - media:    {"media_type": "image|video|document|audio", "link": str, "caption": str}
    - email:    {"subject": str, "text": str, "html": str|None}
    - sms:      {"text": str}
    """

    key: str  # idempotency key; echoed to the provider where it allows (biz_opaque_callback_data)
    channel: str
    kind: str
    to: str  # E.164 phone without "+" for WhatsApp, e-mail address, or E.164 for SMS
    payload: dict[str, Any]
    category: str = "service"


@dataclass(frozen=True)
class Capabilities:
    """What a channel can carry, as data: validation, the editor and the runtime read it.

    ``window_hours`` is the customer-service window (WhatsApp and the simulator: 24); free-form
    messages outside it are refused by the contact rules. Zero limits mean "not applicable".
    """

    kinds: frozenset[str]
    max_body: int
    rate_per_second: float
    window_hours: int = 0
    buttons_max: int = 0
    button_title_max: int = 0
    list_rows_max: int = 0
    supports_templates: bool = False


class ChannelAdapter(Protocol):
    """One provider. Capabilities are data so the runtime and validation can read them."""

    kind: str  # "whatsapp", "email", "sms_twilio", "sms_http", "slack", "webhook", "simulator"
    rate_per_second: float
    max_body: int

    def send(self, message: OutboundMessage, config: dict[str, Any]) -> SendResult:
        """Send one message. Never raises for provider problems: they come back mapped."""
        ...
