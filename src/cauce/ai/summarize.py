"""Extractive conversation summaries for a human handoff.

The agent who takes over needs three things at a glance: why the customer wrote, the data they
already gave (order number, email, phone, amounts), and the sentences that carry the problem.
Sentences are ranked by how central they are to the customer's messages (cosine similarity to
their mean embedding), with a bonus for the first message (usually the reason) and for
sentences holding extracted data; the best ones are kept in their original order.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from cauce.ai.embedder import Encoder
from cauce.ai.extract import extract
from cauce.ai.types import SummaryResult

MAX_SENTENCES = 3
MAX_CHARS = 600
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")
_AGENT_ROLES = {"agent", "bot", "assistant", "business", "agente"}


@dataclass(frozen=True)
class Turn:
    role: str  # "contact", "agent", "bot"...
    text: str


Transcript = str | Sequence[Turn] | Sequence[dict[str, str]] | Sequence[tuple[str, str]]


def parse_transcript(transcript: Transcript) -> list[Turn]:
    """Accept a plain string (one line per message, optional ``role:`` prefix) or turns."""
    if isinstance(transcript, str):
        turns: list[Turn] = []
        for line in transcript.splitlines():
            role, sep, rest = line.partition(":")
            if sep and role.strip().lower() in {*_AGENT_ROLES, "contact", "cliente", "customer",
                                                   "user"}:
                turns.append(Turn(role=role.strip().lower(), text=rest.strip()))
            elif line.strip():
                turns.append(Turn(role="contact", text=line.strip()))
        return turns
    if not isinstance(transcript, list | tuple):
        raise TypeError("a transcript is text or a list of turns")
    parsed: list[Turn] = []
    for item in transcript:
        if isinstance(item, Turn):
            parsed.append(item)
        elif isinstance(item, dict):
            if "text" not in item:
                raise ValueError("each transcript turn needs a 'text'")
            parsed.append(Turn(role=str(item.get("role", "contact")), text=str(item["text"])))
        elif isinstance(item, list | tuple) and len(item) == 2:
            role, text = item
            parsed.append(Turn(role=str(role), text=str(text)))
        else:
            raise ValueError("each transcript turn needs a role and a text")
    return parsed


def summarize_extractive(
    transcript: Transcript, encoder: Encoder | None, language: Literal["es", "en"] = "es"
) -> SummaryResult:
    """Summarise the customer's side of ``transcript`` without any network call."""
    turns = parse_transcript(transcript)
    customer = [t.text for t in turns if t.role.lower() not in _AGENT_ROLES and t.text.strip()]
    sentences = [s.strip() for text in customer for s in _SENTENCE_END.split(text) if s.strip()]
    # "hola", "ok", "gracias" say nothing about the case; keep them only if there is nothing else.
    sentences = [s for s in sentences if len(s.split()) >= 3] or sentences
    if not sentences:
        return SummaryResult(text="", method="extractive", model="cauce-extractive")
    scores = np.zeros(len(sentences))
    if encoder is not None and len(sentences) > 1:
        vectors = encoder.encode(sentences)
        centre = vectors.mean(axis=0)
        centre /= np.linalg.norm(centre) or 1.0
        scores += vectors @ centre
    scores[0] += 0.5  # the first thing the customer says is usually why they wrote
    facts = extract(" \n".join(sentences), ("email", "phone", "order_number", "amount"))
    for i, sentence in enumerate(sentences):
        if any(entity.raw and entity.raw in sentence for entity in facts.entities):
            scores[i] += 0.2
    keep = sorted(np.argsort(-scores)[:MAX_SENTENCES].tolist())
    body = " ".join(_sentence(sentences[i]) for i in keep)
    parts = [body[:MAX_CHARS]]
    data = [f"{key}: {_show(value)}" for key, value in facts.fields.items()]
    if data:
        parts.append(("Datos" if language == "es" else "Data") + ": " + "; ".join(data))
    return SummaryResult(
        text="\n".join(parts),
        method="extractive",
        model="cauce-extractive" + (f"+{encoder.name}" if encoder is not None else ""),
    )


def _sentence(text: str) -> str:
    return text if text[-1] in ".!?…" else text + "."


def _show(value: object) -> str:
    if isinstance(value, dict) and "amount" in value:
        return f"{value['amount']} {value.get('currency', '')}".strip()
    return str(value)
