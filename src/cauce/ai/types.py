"""Typed inputs and results of the AI operations.

Every result is a pydantic model so the runtime can store it as JSON on the run
(``ActivityResult.data``) and the inbox can show what was decided, how sure it was and by which
model. :class:`AiDecision` is the envelope the runtime records for every operation.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from cauce.ai.text import fold


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid")


Operation = Literal["classify_intent", "extract", "sentiment", "summarize", "score"]


class KeywordRule(_Data):
    """Route to ``intent`` when one of ``phrases`` appears (accent-, case- and typo-tolerant).

    ``whole_message`` rules match only when the phrase is the entire message ("STOP", "BAJA"),
    so a word that is also common inside sentences does not trigger them.
    """

    intent: str = Field(min_length=1, max_length=64)
    phrases: list[str] = Field(min_length=1)
    whole_message: bool = False
    min_similarity: int = Field(default=85, ge=50, le=100)

    @field_validator("phrases")
    @classmethod
    def _non_empty(cls, phrases: list[str]) -> list[str]:
        cleaned = [p.strip() for p in phrases if fold(p)]
        if not cleaned:
            raise ValueError("needs at least one non-empty phrase")
        return cleaned


class Intent(_Data):
    """One intent: a machine name (becomes the node's exit), examples and optional keywords.

    ``description`` (the flow editor's field) is a human label; with no examples it is also
    what the model compares messages with.
    """

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")
    label: str = Field(default="", max_length=200)
    description: str = Field(default="", max_length=500)
    examples: list[str] = Field(default_factory=list, max_length=500)
    keywords: list[str] = Field(default_factory=list, max_length=100)


class IntentSet(_Data):
    """The intents a classification chooses between, plus keyword rules checked first."""

    name: str = "custom"
    intents: list[Intent] = Field(min_length=1)
    rules: list[KeywordRule] = Field(default_factory=list)

    @field_validator("intents")
    @classmethod
    def _unique_names(cls, intents: list[Intent]) -> list[Intent]:
        seen: set[str] = set()
        for intent in intents:
            if intent.name in seen:
                raise ValueError(f"intent '{intent.name}' is defined twice")
            seen.add(intent.name)
        return intents

    def names(self) -> list[str]:
        """Intent names in definition order."""
        return [intent.name for intent in self.intents]


class IntentScore(_Data):
    intent: str
    score: float


class IntentResult(_Data):
    """The chosen intent (None when unsure), its confidence and the full ranking."""

    intent: str | None
    confidence: float
    ranking: list[IntentScore]
    unsure: bool
    threshold: float
    method: Literal["embedding", "example", "keyword", "llm"]
    model: str
    model_version: str = ""
    matched: str | None = None  # the keyword phrase or example that decided

    @property
    def exit(self) -> str:
        """The node exit to follow: the intent name, or ``unsure``."""
        return "unsure" if self.unsure or self.intent is None else self.intent


class Entity(_Data):
    """One extracted value with where it came from in the text."""

    field: str
    value: Any
    raw: str
    start: int = -1
    end: int = -1
    confidence: float = 1.0


class ExtractResult(_Data):
    """Extracted values by field name (first match) and every match found."""

    fields: dict[str, Any] = Field(default_factory=dict)
    entities: list[Entity] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list)
    method: Literal["rules", "llm"] = "rules"
    model: str = "cauce-rules"


class SentimentResult(_Data):
    label: Literal["positive", "neutral", "negative"]
    score: float  # -1 (very negative) .. 1 (very positive)
    confidence: float
    method: Literal["lexicon", "llm"] = "lexicon"
    model: str = "cauce-lexicon"


class LeadSignal(_Data):
    name: str
    points: int
    matched: str


class LeadResult(_Data):
    signals: list[LeadSignal]
    points: int
    temperature: Literal["hot", "warm", "cold"]
    model: str = "cauce-lead-rules"


class SummaryResult(_Data):
    text: str
    method: Literal["extractive", "llm"]
    model: str


class AiDecision(_Data):
    """What a run records for every AI step: input, output, confidence and model.

    ``fallback_reason`` is set when an LLM was configured but the offline path answered (the
    LLM timed out, failed or returned something unusable).
    """

    operation: Operation
    input: str
    output: dict[str, Any]
    confidence: float | None
    model: str
    model_version: str = ""
    method: str
    latency_ms: float
    fallback_reason: str | None = None

    def activity_data(self) -> dict[str, Any]:
        """``ActivityResult.data`` for the engine: the node-facing keys of the output at the
        top level (``intent``/``confidence``, ``fields``, ``sentiment``/``score``, ``summary``)
        plus the whole decision under ``decision`` so the run records it."""
        record = self.model_dump(mode="json", exclude={"output"})
        return {**self.output, "decision": record}

    @classmethod
    def from_activity_data(cls, data: dict[str, Any]) -> AiDecision:
        """Rebuild the decision from :meth:`activity_data` (e.g. to record it after the run)."""
        output = {key: value for key, value in data.items() if key != "decision"}
        return cls.model_validate({**data["decision"], "output": output})
