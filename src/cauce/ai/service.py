"""The AI service the runtime's activity executor calls, and the functions flows use.

``AiService.run(operation, text, config)`` answers an engine ``AiRequested`` event with an
:class:`AiDecision` (input, output, confidence, model) that the runtime stores on the run and
feeds back as ``ActivityResult.data``. Offline by default; with an :class:`LlmConfig` the LLM
answers classification, extraction and summaries, and any LLM failure falls back to the offline
path with ``fallback_reason`` recorded.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from cauce.ai.builtin_intents import BUILTIN_INTENT_NAMES, builtin_intent, builtin_intent_set
from cauce.ai.embedder import Encoder, UnavailableModelError, get_encoder
from cauce.ai.extract import BUILTIN_FIELDS, FieldSpec, extract, normalize_phone
from cauce.ai.intents import DEFAULT_THRESHOLD, IntentClassifier
from cauce.ai.leads import lead_signals
from cauce.ai.llm import LlmClient, LlmConfig, LlmError
from cauce.ai.sentiment import sentiment
from cauce.ai.summarize import Transcript, parse_transcript, summarize_extractive
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
    Operation,
    SentimentResult,
    SummaryResult,
)
from cauce.engine.types import ActivityResult, AiRequested

T = TypeVar("T", bound=BaseModel)


class AiConfigError(ValueError):
    """A node's AI configuration is wrong; ``field`` names what to fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class AiSettings(BaseSettings):
    """LLM settings from the environment (``CAUCE_AI_LLM_BASE_URL``, ``…_MODEL``, ``…_API_KEY``)."""

    model_config = SettingsConfigDict(env_prefix="CAUCE_AI_", env_file=".env", extra="ignore")

    llm_base_url: str = ""
    llm_model: str = ""
    llm_api_key: str = ""
    llm_timeout_seconds: float = 8.0
    llm_max_retries: int = 1

    def llm(self) -> LlmConfig | None:
        """The LLM configuration, or None when no provider is set (the default)."""
        if not self.llm_base_url:
            return None
        try:
            return LlmConfig(
                base_url=self.llm_base_url,
                model=self.llm_model,
                api_key=self.llm_api_key,
                timeout_seconds=self.llm_timeout_seconds,
                max_retries=self.llm_max_retries,
            )
        except ValidationError as exc:
            err = exc.errors()[0]
            raise AiConfigError(f"CAUCE_AI_LLM_{str(err['loc'][0]).upper()}", err["msg"]) from None


def intent_set_from_config(
    config: Mapping[str, Any], library: Mapping[str, Intent] | None = None
) -> IntentSet:
    """Build the intent set of a classify node.

    ``intents`` lists names (``"price"``) and/or intent objects
    (``{"name": "wholesale", "description": "...", "examples": [...], "keywords": [...]}``).
    A name resolves to the workspace ``library`` first, then to the built-in intents; an object
    whose name is known there adds its examples to the known ones. Absent or empty: every
    built-in intent. ``rules`` adds keyword rules checked before the model.
    """
    raw_intents = config.get("intents") or list(BUILTIN_INTENT_NAMES)
    if not isinstance(raw_intents, list):
        raise AiConfigError("intents", "must be a list of intent names or intent objects")
    library = library or {}
    intents: list[Intent] = []
    for position, item in enumerate(raw_intents):
        where = f"intents[{position}]"
        if isinstance(item, str):
            known = _known_intent(item, library)
            if known is None:
                raise AiConfigError(
                    where, f"unknown intent '{item}'; built-in: {', '.join(BUILTIN_INTENT_NAMES)}"
                    " (or give examples for a custom one)"
                )
            intents.append(known)
            continue
        intent = _parse(Intent, item, where)
        known = _known_intent(intent.name, library)
        if known is not None:
            intent = intent.model_copy(update={
                "examples": known.examples + intent.examples,
                "keywords": known.keywords + intent.keywords,
                "label": intent.label or known.label,
            })
        elif not intent.examples and not intent.keywords and not intent.description:
            raise AiConfigError(
                f"{where}.examples", f"custom intent '{intent.name}' needs a few examples "
                "(or at least a description)"
            )
        intents.append(intent)
    raw_rules = config.get("rules") or []
    if not isinstance(raw_rules, list):
        raise AiConfigError("rules", "must be a list of keyword rules")
    rules = [_parse(KeywordRule, r, f"rules[{i}]") for i, r in enumerate(raw_rules)]
    names = {intent.name for intent in intents}
    for i, rule in enumerate(rules):
        if rule.intent not in names:
            raise AiConfigError(f"rules[{i}].intent", f"'{rule.intent}' is not one of the intents")
    builtin_rules = [r for r in builtin_intent_set().rules if r.intent in names]
    try:
        return IntentSet(name=str(config.get("name", "node")), intents=intents,
                         rules=rules + builtin_rules)
    except ValidationError as exc:
        raise AiConfigError("intents", exc.errors()[0]["msg"]) from None


def _known_intent(name: str, library: Mapping[str, Intent]) -> Intent | None:
    """A library intent (extending the built-in one of the same name), a built-in, or None."""
    base = builtin_intent(name) if name in BUILTIN_INTENT_NAMES else None
    custom = library.get(name)
    if custom is None:
        return base
    if base is None:
        return custom
    return custom.model_copy(update={
        "examples": base.examples + custom.examples, "label": custom.label or base.label,
    })


def _parse(model: type[T], value: Any, where: str) -> T:
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(part) for part in err["loc"])
        raise AiConfigError(f"{where}.{loc}" if loc else where, err["msg"]) from None


class AiService:
    """Offline AI with an optional LLM. Thread-safe; share one per process."""

    def __init__(
        self,
        llm: LlmConfig | None = None,
        encoder: Encoder | None = None,
        llm_client: LlmClient | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._encoder = encoder
        self._classifier = IntentClassifier(encoder)
        self._llm = llm_client or (LlmClient(llm) if llm is not None else None)
        self._clock = clock

    @classmethod
    def from_env(cls) -> AiService:
        """A service configured from ``CAUCE_AI_*`` settings (offline when none are set)."""
        return cls(llm=AiSettings().llm())

    @property
    def llm_configured(self) -> bool:
        return self._llm is not None

    @property
    def encoder(self) -> Encoder:
        return self._encoder if self._encoder is not None else get_encoder()

    # --------------------------------------------------------------------------------------
    # operations
    # --------------------------------------------------------------------------------------

    def classify_intent(
        self,
        text: str,
        intents: IntentSet | None = None,
        threshold: float = DEFAULT_THRESHOLD,
        use_llm: bool = True,
    ) -> tuple[IntentResult, str | None]:
        """Classify ``text``; returns the result and why the LLM was not used (if it failed)."""
        intent_set = intents or builtin_intent_set()
        fallback: str | None = None
        if self._llm is not None and use_llm:
            try:
                return self._llm_classify(text, intent_set, threshold), None
            except LlmError as exc:
                fallback = exc.reason
        return self._classifier.classify(text, intent_set, threshold), fallback

    def extract(
        self,
        text: str,
        fields: Sequence[str | FieldSpec] = BUILTIN_FIELDS,
        default_region: str = "AR",
        today: date | None = None,
        use_llm: bool = True,
    ) -> tuple[ExtractResult, str | None]:
        """Extract ``fields``; the LLM (when set) fills what the rules could not find."""
        offline = extract(text, fields, default_region, today)
        if self._llm is None or not use_llm or not offline.missing:
            return offline, None
        specs = {
            spec.name: spec
            for spec in (FieldSpec(name=f) if isinstance(f, str) else f for f in fields)
        }
        try:
            return self._llm_extract(text, offline, specs, default_region), None
        except LlmError as exc:
            return offline, exc.reason

    def sentiment(self, text: str) -> SentimentResult:
        """Offline sentiment (lexicon)."""
        return sentiment(text)

    def lead_signals(self, text: str) -> LeadResult:
        """Offline buying-signal detection."""
        return lead_signals(text)

    def summarize(
        self, transcript: Transcript, language: Literal["es", "en"] = "es", use_llm: bool = True
    ) -> tuple[SummaryResult, str | None]:
        """Abstractive with an LLM, extractive offline (and on any LLM failure)."""
        fallback: str | None = None
        if self._llm is not None and use_llm:
            try:
                return self._llm_summarize(transcript, language), None
            except LlmError as exc:
                fallback = exc.reason
        try:
            encoder: Encoder | None = self.encoder
        except UnavailableModelError:
            encoder = None
        return summarize_extractive(transcript, encoder, language), fallback

    def answer(
        self,
        event: AiRequested,
        library: Mapping[str, Intent] | None = None,
        defaults: Mapping[str, Any] | None = None,
    ) -> ActivityResult:
        """The engine input answering ``event``; never raises for a bad node configuration.

        ``defaults`` fills what the node did not set, from the run's context: typically
        ``{"default_region": contact.country or workspace.country, "today": "YYYY-MM-DD"}``.
        A configuration the AI cannot use becomes ``ok=False`` with an error naming the field,
        so the node takes its failure/unsure exit instead of the run crashing.
        """
        config = {**(defaults or {}), **event.config}
        try:
            decision = self.run(event.operation, event.text, config, library)
        except AiConfigError as exc:
            return ActivityResult(activity_id=event.activity_id, ok=False,
                                  error=f"invalid AI configuration: {exc}")
        return ActivityResult(activity_id=event.activity_id, ok=True,
                              data=decision.activity_data())

    def run(
        self,
        operation: Operation,
        text: str,
        config: Mapping[str, Any],
        library: Mapping[str, Intent] | None = None,
    ) -> AiDecision:
        """Answer an engine ``AiRequested`` event. Raises :class:`AiConfigError` on bad config.

        ``library`` is the workspace's intent library (names a node may refer to).
        """
        started = self._clock()
        use_llm = bool(config.get("use_llm", True))
        fallback: str | None = None
        output: BaseModel
        confidence: float | None
        model, version, method = "", "", ""
        if operation == "classify_intent":
            threshold = config.get("threshold", DEFAULT_THRESHOLD)
            if not isinstance(threshold, int | float) or not 0 <= threshold <= 1:
                raise AiConfigError("threshold", "must be a number between 0 and 1")
            result, fallback = self.classify_intent(
                text, intent_set_from_config(config, library), float(threshold), use_llm
            )
            output, confidence = result, result.confidence
            model, version, method = result.model, result.model_version, result.method
            payload = {**result.model_dump(mode="json"), "exit": result.exit}
        elif operation == "extract":
            raw_fields = config.get("fields") or list(BUILTIN_FIELDS)
            if not isinstance(raw_fields, list):
                raise AiConfigError("fields", "must be a list of field names or field objects")
            fields = [
                _parse(FieldSpec, f, f"fields[{i}]") if isinstance(f, dict) else str(f)
                for i, f in enumerate(raw_fields)
            ]
            today = _parse_date(config.get("today"))
            region = str(config.get("default_region") or "AR").upper()
            if not (len(region) == 2 and region.isalpha()):
                raise AiConfigError("default_region", "must be a two-letter country code (AR)")
            try:
                extracted, fallback = self.extract(text, fields, region, today, use_llm)
            except ValueError as exc:
                raise AiConfigError("fields", str(exc)) from None
            output, confidence = extracted, None
            model, method = extracted.model, extracted.method
            payload = extracted.model_dump(mode="json")
        elif operation == "sentiment":
            feeling = self.sentiment(text)
            output, confidence = feeling, feeling.confidence
            model, method = feeling.model, feeling.method
            payload = {**feeling.model_dump(mode="json"), "sentiment": feeling.label}
        elif operation == "score":
            lead = self.lead_signals(text)
            output, confidence = lead, None
            model, method = lead.model, "rules"
            payload = lead.model_dump(mode="json")
        elif operation == "summarize":
            language = config.get("language", "es")
            if language not in ("es", "en"):
                raise AiConfigError("language", "must be 'es' or 'en'")
            try:
                transcript = parse_transcript(config.get("transcript") or text)
            except (TypeError, ValueError):
                raise AiConfigError(
                    "transcript", "must be text or a list of {role, text} turns"
                ) from None
            summary, fallback = self.summarize(transcript, language, use_llm)
            output, confidence = summary, None
            model, method = summary.model, summary.method
            payload = {**summary.model_dump(mode="json"), "summary": summary.text}
        else:
            raise AiConfigError("operation", f"unknown AI operation '{operation}'")
        del output
        return AiDecision(
            operation=operation,
            input=text,
            output=payload,
            confidence=confidence,
            model=model,
            model_version=version,
            method=method,
            latency_ms=round((self._clock() - started) * 1000, 2),
            fallback_reason=fallback,
        )

    # --------------------------------------------------------------------------------------
    # LLM paths (only reached when a provider is configured)
    # --------------------------------------------------------------------------------------

    def _llm_classify(self, text: str, intents: IntentSet, threshold: float) -> IntentResult:
        assert self._llm is not None
        catalogue = "\n".join(
            f"- {i.name}: {i.label or i.name}. e.g. " + " | ".join(i.examples[:3])
            for i in intents.intents
        )
        answer = self._llm.chat_json(
            "You route customer messages. Choose exactly one intent from the list, or "
            "'unsure'. Answer JSON: {\"intent\": name, \"confidence\": 0..1}.\n" + catalogue,
            text,
        )
        intent = answer.get("intent")
        confidence = answer.get("confidence")
        if not isinstance(confidence, int | float) or not 0 <= confidence <= 1:
            raise LlmError("answer has no confidence between 0 and 1")
        if intent not in (*intents.names(), "unsure"):
            raise LlmError("answer names an unknown intent")
        unsure = intent == "unsure" or confidence < threshold
        return IntentResult(
            intent=None if unsure else str(intent),
            confidence=round(float(confidence), 4),
            ranking=[IntentScore(intent=str(intent), score=round(float(confidence), 4))],
            unsure=unsure,
            threshold=threshold,
            method="llm",
            model=self._llm.name,
        )

    def _llm_extract(
        self, text: str, offline: ExtractResult, specs: Mapping[str, FieldSpec], region: str
    ) -> ExtractResult:
        assert self._llm is not None
        wanted = []
        for name in offline.missing:
            spec = specs[name]
            hint = spec.description or (spec.kind if spec.kind not in (None, "custom") else "")
            wanted.append(f"{name} ({hint})" if hint and hint != name else name)
        answer = self._llm.chat_json(
            "Extract these fields from the customer's message. Answer a JSON object with "
            "exactly these keys, null when absent: " + "; ".join(wanted)
            + ". Dates as YYYY-MM-DD, amounts as {\"amount\": \"123.45\", \"currency\": ISO}.",
            text,
        )
        values = dict(offline.fields)
        entities = list(offline.entities)
        for name in offline.missing:
            value = answer.get(name)
            if value in (None, "", []):
                continue
            kind = specs[name].effective_kind
            # The LLM's values go through our own validation: a phone must parse and take the
            # WhatsApp form, an email must be valid, a custom field must match its pattern.
            if kind == "phone":
                value = normalize_phone(str(value), region)
            elif kind == "email":
                value = extract(str(value), ("email",)).fields.get("email")
            elif kind == "custom" and specs[name].regex() is not None:
                found = extract(str(value), [specs[name]]).fields
                value = found.get(name)
            if value is None:
                continue
            values[name] = value
            entities.append(Entity(field=name, value=value, raw=json.dumps(value), confidence=0.8))
        return ExtractResult(
            fields=values, entities=entities,
            missing=[name for name in offline.missing if name not in values],
            method="llm", model=self._llm.name,
        )

    def _llm_summarize(self, transcript: Transcript, language: str) -> SummaryResult:
        assert self._llm is not None
        turns = parse_transcript(transcript)
        lines = "\n".join(f"{turn.role}: {turn.text}" for turn in turns)
        target = "Spanish" if language == "es" else "English"
        text = self._llm.chat(
            f"Summarise this customer conversation for the human agent taking over, in {target}, "
            "in at most three sentences: the reason, what was tried, the data given.",
            lines,
        )
        return SummaryResult(text=text.strip(), method="llm", model=self._llm.name)


def _parse_date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise AiConfigError("today", "must be an ISO date (YYYY-MM-DD)") from None
