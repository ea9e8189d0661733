"""The simulator channel: what the web UI's chat panel talks to.

It accepts exactly what a WhatsApp number accepts (same kinds, same limits, same 24-hour window
through the contact rules), so a flow that works in the simulator works on a real number. There
is no provider: "sending" succeeds at once with a provider id derived from our key, and the
runtime records the message, which the chat panel reads back as the transcript.
"""

from __future__ import annotations

from typing import Any

from cauce.channels.base import (
    Capabilities,
    ChannelError,
    ErrorAction,
    OutboundMessage,
    SendResult,
)
from cauce.channels.whatsapp.client import CAPABILITIES as WHATSAPP
from cauce.channels.whatsapp.client import template_refusal
from cauce.channels.whatsapp.payloads import LimitError, check_limits

CAPABILITIES = Capabilities(
    kinds=WHATSAPP.kinds, max_body=WHATSAPP.max_body, rate_per_second=1000.0,
    window_hours=WHATSAPP.window_hours, buttons_max=WHATSAPP.buttons_max,
    button_title_max=WHATSAPP.button_title_max, list_rows_max=WHATSAPP.list_rows_max,
    supports_templates=True,
)


def provider_id_for(key: str) -> str:
    return f"sim.{key}"


class SimulatorAdapter:
    kind = "simulator"
    capabilities = CAPABILITIES
    rate_per_second = CAPABILITIES.rate_per_second
    max_body = CAPABILITIES.max_body

    def send(self, message: OutboundMessage, config: dict[str, Any]) -> SendResult:
        try:
            check_limits(message.kind, message.payload)
        except LimitError as exc:
            return SendResult.failed(ChannelError(f"limit:{exc.field}", str(exc), ErrorAction.FAIL))
        refusal = template_refusal(message, config)
        if refusal is not None:
            return SendResult.failed(refusal)
        return SendResult.sent(provider_id_for(message.key),
                               raw={"kind": message.kind, "payload": message.payload})
