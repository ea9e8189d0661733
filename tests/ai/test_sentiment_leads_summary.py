"""Sentiment, buying signals for lead scoring, and handoff summaries (all offline)."""

from __future__ import annotations

import pytest

from cauce.ai import lead_signals, sentiment, summarize
from cauce.ai.embedder import Encoder
from cauce.ai.service import AiService
from cauce.ai.summarize import Turn, parse_transcript


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Excelente atención, muchas gracias!! 🙌", "positive"),
        ("re contento con la compra, son unos cracks", "positive"),
        ("The product is great, thanks!", "positive"),
        ("no está nada mal 👍", "positive"),
        ("pésimo servicio, nadie me responde 😡", "negative"),
        ("malisimo, llego roto", "negative"),
        ("no me gustó para nada", "negative"),
        ("the app doesn't work and support is useless", "negative"),
        ("estoy harto!!", "negative"),
        ("quiero saber el horario del local", "neutral"),
        ("mi pedido es el 4521", "neutral"),
        ("what time do you open?", "neutral"),
    ],
)
def test_sentiment_labels(text: str, label: str) -> None:
    result = sentiment(text)
    assert result.label == label, result
    assert -1.0 <= result.score <= 1.0 and 0.0 <= result.confidence <= 1.0


def test_negation_flips_polarity() -> None:
    assert sentiment("me gustó").score > 0 > sentiment("no me gustó").score


@pytest.mark.parametrize(
    ("text", "temperature", "signals"),
    [
        ("cuánto sale? está disponible hoy? cómo pago?", "hot",
         {"price", "availability_now", "payment"}),
        ("lo quiero! pasame el link de pago", "hot", {"purchase_intent", "payment"}),
        ("precio?", "warm", {"price"}),
        ("preciooo", "warm", {"price"}),
        ("how much is it? is it in stock?", "warm", {"price", "availability_now"}),
        ("hola, buen día", "cold", set()),
        ("solo mirando, gracias", "cold", {"not_now"}),
    ],
)
def test_lead_signals(text: str, temperature: str, signals: set[str]) -> None:
    result = lead_signals(text)
    assert result.temperature == temperature
    assert {s.name for s in result.signals} == signals
    assert result.points == max(0, sum(s.points for s in result.signals))


def test_a_signal_counts_once() -> None:
    once = lead_signals("precio?")
    assert lead_signals("precio? precio? cuanto sale?").points == once.points


def test_transcript_forms() -> None:
    as_text = parse_transcript("cliente: hola\nagent: ¿en qué te ayudo?\nno puedo entrar")
    assert as_text == [Turn("cliente", "hola"), Turn("agent", "¿en qué te ayudo?"),
                       Turn("contact", "no puedo entrar")]
    assert parse_transcript([{"role": "bot", "text": "hola"}]) == [Turn("bot", "hola")]
    assert parse_transcript([("contact", "hola")]) == [Turn("contact", "hola")]
    with pytest.raises(ValueError, match="text"):
        parse_transcript([{"role": "bot"}])


TRANSCRIPT = [
    {"role": "contact", "text": "hola"},
    {"role": "bot", "text": "¡Hola! ¿En qué te puedo ayudar?"},
    {"role": "contact", "text": "No puedo acceder a mi cuenta desde ayer. Me dice contraseña "
                                "incorrecta."},
    {"role": "bot", "text": "Probá restablecer la contraseña desde el link."},
    {"role": "contact", "text": "Ya lo hice y no me llega el mail. Mi mail es ana@gmail.com."},
    {"role": "contact", "text": "ok"},
    {"role": "contact", "text": "Necesito entrar hoy porque tengo que pagar la factura 7781."},
]


def test_extractive_summary_keeps_the_case_and_the_data(encoder: Encoder) -> None:
    result, fallback = AiService(encoder=encoder).summarize(TRANSCRIPT)
    assert fallback is None and result.method == "extractive"
    assert "No puedo acceder a mi cuenta" in result.text
    assert "¿En qué te puedo ayudar?" not in result.text  # the bot's lines are not the case
    assert "ana@gmail.com" in result.text and "7781" in result.text
    assert "ok." not in result.text.split("Datos")[0]
    assert result.text.startswith("No puedo acceder") or "hola" not in result.text.lower()


def test_summary_function_and_empty_transcript(encoder: Encoder) -> None:
    assert summarize("hola\nno me funciona la app") != ""
    assert summarize([]) == ""
