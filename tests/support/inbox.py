"""Helpers for inbox tests: a deterministic encoder for the handoff summary, driving the
real runtime (processor + delivery) until it is quiet, and signed WhatsApp inbound texts."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import select

from cauce.ai.embedder import Vector
from cauce.runtime.delivery import HANDLERS, Delivery
from cauce.runtime.engine_port import default_engine
from cauce.runtime.handlers import install_default_handlers
from cauce.runtime.processor import Processor
from cauce.services.container import Cauce
from cauce.store.models import OutboxItem, RuntimeInput

PHONE_NUMBER_ID = "106540352242922"


class BagOfWords:
    """A stand-in for the sentence encoder: hashed word counts, normalised (no model load)."""

    name = "bag-of-words"
    version = "test"

    def encode(self, texts: Sequence[str]) -> Vector:
        out = np.zeros((len(texts), 256), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[i, int(hashlib.sha1(word.encode()).hexdigest(), 16) % 256] += 1.0
            norm = float(np.linalg.norm(out[i]))
            if norm:
                out[i] /= norm
        return out


def _pending(cauce: Cauce, outbox: bool = True) -> int:
    with cauce.transaction() as s:
        inputs = len(s.scalars(select(RuntimeInput.id).where(
            RuntimeInput.status == "pending")).all())
        ready = len(s.scalars(select(OutboxItem.id).where(
            OutboxItem.status == "pending",
            OutboxItem.next_attempt_at <= datetime.now(UTC))).all()) if outbox else 0
        return inputs + ready


def settle(cauce: Cauce) -> None:
    """Process inputs and deliver the outbox (every registered handler) until both are quiet
    (an input whose contact another thread holds for a moment is retried)."""
    install_default_handlers()
    processor = Processor(cauce, default_engine())
    delivery = Delivery(cauce, handlers=dict(HANDLERS))
    try:
        for _ in range(500):
            while processor.process_batch():
                pass
            if _pending(cauce, outbox=False):
                time.sleep(0.01)
                continue
            if not delivery.deliver_batch() and not _pending(cauce):
                return
    finally:
        delivery.close()


def inbound_text(text: str, at: datetime, wamid: str, wa_id: str = "5491122334455",
                 name: str = "Ana") -> dict[str, Any]:
    """A WhatsApp Cloud API webhook with one inbound text (the shape of Meta's samples)."""
    return {"object": "whatsapp_business_account", "entry": [{"id": "102290129340398",
            "changes": [{"field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "15550783881",
                             "phone_number_id": PHONE_NUMBER_ID},
                "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
                "messages": [{"from": wa_id, "id": wamid, "timestamp": str(int(at.timestamp())),
                              "type": "text", "text": {"body": text}}]}}]}]}
