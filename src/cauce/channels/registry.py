"""The explicit table of channel adapters (kombu-style: dotted paths, imported lazily).

Adding a channel is one line here plus its module; a typo in a kind gets a "did you mean".
"""

from __future__ import annotations

import difflib
import importlib
import threading

from cauce.channels.base import Capabilities, ChannelAdapter

ADAPTERS: dict[str, str] = {
    "whatsapp": "cauce.channels.whatsapp.client:WhatsAppAdapter",
    "email": "cauce.channels.email:EmailAdapter",
    "sms_twilio": "cauce.channels.sms_twilio:TwilioAdapter",
    "sms_http": "cauce.channels.sms_http:HttpSmsAdapter",
    "slack": "cauce.channels.slack:SlackAdapter",
    "webhook": "cauce.channels.webhook:WebhookAdapter",
    "simulator": "cauce.channels.simulator:SimulatorAdapter",
}

_instances: dict[str, ChannelAdapter] = {}
_lock = threading.Lock()


class UnknownChannel(LookupError):
    def __init__(self, kind: str) -> None:
        close = difflib.get_close_matches(kind, ADAPTERS, n=1, cutoff=0.5)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        super().__init__(f"unknown channel kind '{kind}'{hint} "
                         f"(known: {', '.join(sorted(ADAPTERS))})")
        self.kind = kind
        self.suggestion = close[0] if close else None


def kinds() -> list[str]:
    return sorted(ADAPTERS)


def get_adapter(kind: str) -> ChannelAdapter:
    """The adapter for ``kind`` (one shared instance per process; adapters are stateless)."""
    with _lock:
        adapter = _instances.get(kind)
        if adapter is None:
            path = ADAPTERS.get(kind)
            if path is None:
                raise UnknownChannel(kind)
            module_name, _, class_name = path.partition(":")
            adapter = getattr(importlib.import_module(module_name), class_name)()
            _instances[kind] = adapter
        return adapter


def capabilities(kind: str) -> Capabilities:
    caps: Capabilities = getattr(get_adapter(kind), "capabilities")  # noqa: B009
    return caps


def close_all() -> None:
    """Close the pooled connections of every adapter created so far (shutdown and tests)."""
    with _lock:
        adapters = list(_instances.values())
    for adapter in adapters:
        close = getattr(adapter, "close", None)
        if callable(close):
            close()
