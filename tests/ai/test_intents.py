"""Intent classification: quality on the held-out set, thresholds, rules and custom intents."""

from __future__ import annotations

from pathlib import Path

import pytest

from cauce.ai import (
    AiConfigError,
    AiService,
    Intent,
    IntentSet,
    KeywordRule,
    builtin_intent_set,
    intent_set_from_config,
)
from cauce.ai.builtin_intents import BUILTIN_INTENT_NAMES
from cauce.ai.embedder import Encoder
from cauce.ai.evaluation import load_examples, score, split
from cauce.ai.intents import IntentClassifier, match_rules, normalized_key

DATA = Path(__file__).resolve().parents[2] / "bench" / "ai" / "intents.jsonl"


def test_evaluation_set_is_large_bilingual_and_covers_every_builtin_intent() -> None:
    examples = load_examples(DATA)
    assert len(examples) >= 300
    assert {e.intent for e in examples} == set(BUILTIN_INTENT_NAMES)
    assert {e.lang for e in examples} == {"es", "en"}
    train, held_out = split(examples)
    assert abs(len(train) - len(held_out)) <= len(BUILTIN_INTENT_NAMES)
    builtin = {normalized_key(ex) for i in builtin_intent_set().intents for ex in i.examples}
    leaked = [e.text for e in examples if normalized_key(e.text) in builtin]
    assert leaked == [], "evaluation messages must not repeat built-in examples"


def test_macro_f1_on_the_held_out_half_stays_at_least_0_85(encoder: Encoder) -> None:
    _, held_out = split(load_examples(DATA))
    classifier = IntentClassifier(encoder)
    intents = builtin_intent_set()
    pairs = [(e.intent, classifier.classify(e.text, intents).intent) for e in held_out]
    report = score(list(BUILTIN_INTENT_NAMES), pairs)
    assert report.macro_f1 >= 0.85, report.format_confusion()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("no puedo acceder", "support"),
        ("NO FUNCIONA 😡", "support"),
        ("necesito la factura del mes pasado", "billing"),
        ("quiero cambiar turno", "change_appointment"),
        ("cuanto sale?", "price"),
        ("tenés stock para hoy?", "availability"),
        ("pasame con un asesor", "human_agent"),
        ("hola!! 👋", "greeting"),
        ("BAJA", "opt_out"),
    ],
)
def test_seed_phrases_route_to_their_intent(encoder: Encoder, text: str, expected: str) -> None:
    result = IntentClassifier(encoder).classify(text, builtin_intent_set())
    assert result.intent == expected
    assert result.exit == expected
    assert result.model in {"usem3", "cauce-keyword-rules"}


def test_result_records_model_ranking_and_confidence(encoder: Encoder) -> None:
    result = IntentClassifier(encoder).classify("cuánto cuesta el envío?", builtin_intent_set())
    assert result.method == "embedding"
    assert result.model == "usem3" and result.model_version
    assert result.ranking[0].intent == "price" == result.intent
    assert sum(s.score for s in result.ranking) == pytest.approx(1.0, abs=0.01)
    assert [s.score for s in result.ranking] == sorted((s.score for s in result.ranking),
                                                        reverse=True)


def test_below_threshold_takes_the_unsure_exit(encoder: Encoder) -> None:
    classifier = IntentClassifier(encoder)
    confident = classifier.classify("quiero cancelar mi pedido", builtin_intent_set(), 0.3)
    assert confident.intent == "cancel"
    strict = classifier.classify("quiero cancelar mi pedido", builtin_intent_set(), 1.0)
    assert strict.unsure and strict.intent is None and strict.exit == "unsure"
    # Nothing like any example: unsure whatever the threshold.
    odd = classifier.classify("el cielo es azul y los pájaros cantan", builtin_intent_set(), 0.0)
    assert odd.exit == "unsure"
    assert classifier.classify("   ", builtin_intent_set()).exit == "unsure"


def test_keyword_rules_tolerate_accents_case_and_typos() -> None:
    rules = [KeywordRule(intent="support", phrases=["no funciona"])]
    for text in ["No Funciona", "no funsiona la app", "NO FUNCIONAAA!!", "no fúnciona"]:
        hit = match_rules(text, rules)
        assert hit is not None and hit[0] == "support", text
    assert match_rules("todo funciona perfecto", rules) is None


def test_short_words_and_whole_message_rules_do_not_fire_inside_other_words() -> None:
    rules = [KeywordRule(intent="opt_out", phrases=["baja"], whole_message=True)]
    assert match_rules("BAJA", rules) is not None
    assert match_rules("baja!!", rules) is not None
    assert match_rules("quiero trabajar con ustedes", rules) is None
    assert match_rules("la baja de precios me interesa", rules) is None
    partial = [KeywordRule(intent="x", phrases=["baja"])]
    assert match_rules("trabajar", partial) is None


def test_user_rules_win_over_the_model(encoder: Encoder) -> None:
    intents = intent_set_from_config({
        "intents": ["price", "support"],
        "rules": [{"intent": "support", "phrases": ["precio roto"]}],
    })
    result = IntentClassifier(encoder).classify("el PRECIO ROTO en la web", intents)
    assert result.intent == "support"
    assert result.method == "keyword" and result.matched == "precio roto"


def test_custom_intents_from_a_few_examples(encoder: Encoder) -> None:
    intents = IntentSet(intents=[
        Intent(name="wholesale", examples=["venden por mayor?", "precio mayorista",
                                           "soy revendedor", "do you sell wholesale?"]),
        Intent(name="jobs", examples=["buscan personal?", "quiero trabajar con ustedes",
                                      "dejo mi cv", "are you hiring?"]),
        Intent(name="franchise", examples=["quiero abrir una franquicia", "cómo pongo un local",
                                           "franchise information please"]),
    ])
    classifier = IntentClassifier(encoder)
    assert classifier.classify("hacen precios para revender?", intents, 0.3).intent == "wholesale"
    assert classifier.classify("tienen vacantes de trabajo?", intents, 0.3).intent == "jobs"
    assert classifier.classify("me interesa tener una franquicia", intents, 0.3).intent == (
        "franchise"
    )


def test_custom_examples_extend_a_builtin_intent() -> None:
    intents = intent_set_from_config({"intents": [
        "price", {"name": "support", "examples": ["la tele no prende"]},
    ]})
    support = next(i for i in intents.intents if i.name == "support")
    assert "la tele no prende" in support.examples and len(support.examples) > 1
    assert intents.names() == ["price", "support"]


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"intents": ["precio"]}, "intents[0]"),
        ({"intents": "price"}, "intents"),
        ({"intents": [{"name": "Bad Name", "examples": ["x"]}]}, "intents[0].name"),
        ({"intents": [{"name": "x", "colour": "red"}]}, "intents[0].colour"),
        ({"intents": [{"name": "empty"}]}, "intents[0].examples"),
        ({"intents": ["price"], "rules": [{"intent": "cancel", "phrases": ["x"]}]},
         "rules[0].intent"),
        ({"intents": ["price"], "rules": [{"intent": "price", "phrases": []}]},
         "rules[0].phrases"),
        ({"intents": ["price", "price"]}, "intents"),
    ],
)
def test_bad_intent_config_names_the_field(config: dict[str, object], field: str) -> None:
    with pytest.raises(AiConfigError) as excinfo:
        intent_set_from_config(config)
    assert excinfo.value.field == field


def test_bad_threshold_is_a_config_error(encoder: Encoder) -> None:
    with pytest.raises(AiConfigError) as excinfo:
        AiService(encoder=encoder).run("classify_intent", "hola", {"threshold": 3})
    assert excinfo.value.field == "threshold"
