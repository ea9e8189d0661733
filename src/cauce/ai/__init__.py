"""Offline AI: intent classification, extraction, sentiment, lead scoring, summaries; an
optional OpenAI-compatible LLM provider with offline fallback.

May import numpy, rapidfuzz, phonenumbers and httpx (LLM provider only); never SQLAlchemy,
FastAPI or the application settings. The quick functions below use one process-wide offline
:class:`AiService`; the runtime builds its own with :meth:`AiService.from_env` and calls
:meth:`AiService.run` for every ``AiRequested`` event. See docs/ai.md.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import date
from typing import Literal

from cauce.ai.builtin_intents import BUILTIN_INTENT_NAMES, builtin_intent, builtin_intent_set
from cauce.ai.embedder import UnavailableModelError, get_encoder, warm_up_in_background
from cauce.ai.extract import BUILTIN_FIELDS, FieldSpec, normalize_phone
from cauce.ai.intents import DEFAULT_THRESHOLD
from cauce.ai.llm import LlmConfig, LlmError
from cauce.ai.service import AiConfigError, AiService, AiSettings, intent_set_from_config
from cauce.ai.summarize import Transcript, Turn
from cauce.ai.types import (
    AiDecision,
    Entity,
    ExtractResult,
    Intent,
    IntentResult,
    IntentScore,
    IntentSet,
    KeywordRule,
    LeadResult,
    LeadSignal,
    SentimentResult,
    SummaryResult,
)

__all__ = [
    "BUILTIN_FIELDS", "BUILTIN_INTENT_NAMES", "DEFAULT_THRESHOLD", "AiConfigError", "AiDecision",
    "AiService", "AiSettings", "Entity", "ExtractResult", "FieldSpec", "Intent", "IntentResult",
    "IntentScore", "IntentSet", "KeywordRule", "LeadResult", "LeadSignal", "LlmConfig",
    "LlmError", "SentimentResult", "SummaryResult", "Transcript", "Turn",
    "UnavailableModelError", "builtin_intent", "builtin_intent_set", "classify_intent",
    "default_service", "extract", "get_encoder", "intent_set_from_config", "lead_signals",
    "normalize_phone", "sentiment", "summarize", "warm_up_in_background",
]

_lock = threading.Lock()
_default: AiService | None = None


def default_service() -> AiService:
    """The process-wide offline service behind the functions below."""
    global _default
    if _default is None:
        with _lock:
            if _default is None:
                _default = AiService()
    return _default


def classify_intent(
    text: str, intents: IntentSet | None = None, threshold: float = DEFAULT_THRESHOLD
) -> IntentResult:
    """Classify ``text`` against ``intents`` (the built-in set when None), offline."""
    return default_service().classify_intent(text, intents, threshold)[0]


def extract(
    text: str,
    fields: Sequence[str | FieldSpec] = BUILTIN_FIELDS,
    default_region: str = "AR",
    today: date | None = None,
) -> ExtractResult:
    """Extract name, email, phone, date, amount, order number and custom fields, offline."""
    return default_service().extract(text, fields, default_region, today)[0]


def sentiment(text: str) -> SentimentResult:
    """positive / neutral / negative with a score in [-1, 1], offline."""
    return default_service().sentiment(text)


def lead_signals(text: str) -> LeadResult:
    """Buying signals, their points and hot / warm / cold, offline."""
    return default_service().lead_signals(text)


def summarize(transcript: Transcript, language: Literal["es", "en"] = "es") -> str:
    """An extractive summary of the customer's side of a conversation, offline."""
    return default_service().summarize(transcript, language)[0].text
