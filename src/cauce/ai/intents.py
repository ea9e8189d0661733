"""Intent classification: keyword rules first, then nearest neighbours in embedding space.

Why nearest neighbours over the examples rather than a trained head: a flow node or a workspace
library defines intents with a handful of examples each and edits them often; a per-intent
top-k similarity needs no training step, works with three examples, and an agent's correction
improves it the moment it is added as an example. The score of an intent is the mean of its
``k`` most similar examples; a softmax over those scores gives the confidence, and a message
whose best similarity is low (nothing like any example) is ``unsure`` whatever the softmax says.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz

from cauce.ai.embedder import Encoder, Vector, get_encoder
from cauce.ai.text import fold, words
from cauce.ai.types import IntentResult, IntentScore, IntentSet, KeywordRule

DEFAULT_THRESHOLD = 0.45
# Below this cosine similarity to every example the message is unlike anything we know.
MIN_SIMILARITY = 0.30
TOP_K = 3
# Softmax temperature over similarities: USE cosines for paraphrases sit around 0.5-0.8, so
# a 0.05 gap between two intents should already be a clear preference. 0.03 and the default
# threshold were chosen on the train half of bench/ai/intents.jsonl (see docs/ai.md).
TEMPERATURE = 0.03
_INDEX_CACHE = 64


@dataclass(frozen=True)
class _Index:
    names: list[str]
    matrices: list[Vector]  # one (n_examples, 512) matrix per intent
    exact: dict[str, str]  # folded example -> intent, for examples of exactly one intent


# Example embeddings per intent set, shared by every classifier in the process: the built-in
# set is embedded once, and a flow's node set once per edit (keyed by its content).
_indexes: OrderedDict[str, _Index] = OrderedDict()
_indexes_lock = threading.Lock()


class IntentClassifier:
    """Classifies texts against intent sets; example embeddings are cached per set."""

    def __init__(self, encoder: Encoder | None = None) -> None:
        self._encoder = encoder

    @property
    def encoder(self) -> Encoder:
        """The encoder in use (the process-wide model unless one was injected)."""
        return self._encoder if self._encoder is not None else get_encoder()

    def classify(
        self, text: str, intents: IntentSet, threshold: float = DEFAULT_THRESHOLD
    ) -> IntentResult:
        """Classify ``text``; below ``threshold`` confidence the result is ``unsure``."""
        if not 0.0 <= threshold <= 1.0:
            raise ValueError("threshold must be between 0 and 1")
        rule_hit = match_rules(text, intents.rules, set(intents.names()))
        encoder = self.encoder
        if rule_hit is not None:
            intent, phrase, similarity = rule_hit
            confidence = round(similarity / 100.0, 4)
            return IntentResult(
                intent=intent,
                confidence=confidence,
                ranking=[IntentScore(intent=intent, score=confidence)],
                unsure=False,
                threshold=threshold,
                method="keyword",
                model="cauce-keyword-rules",
                matched=phrase,
            )
        if not text.strip():
            return self._unsure(intents, threshold, encoder)
        index = self._index(intents, encoder)
        known = index.exact.get(normalized_key(text))
        if known is not None:
            # A message that IS an example (typically an agent's correction) routes there.
            return IntentResult(
                intent=known, confidence=1.0, ranking=[IntentScore(intent=known, score=1.0)],
                unsure=False, threshold=threshold, method="example", model=encoder.name,
                model_version=encoder.version, matched=text,
            )
        query = encoder.encode([text])[0]
        scores = np.array(
            [_top_k_mean(matrix @ query) for matrix in index.matrices], dtype=np.float64
        )
        probabilities = _softmax(scores / TEMPERATURE)
        order = np.argsort(-probabilities)
        best = int(order[0])
        confidence = float(probabilities[best])
        unsure = confidence < threshold or float(scores[best]) < MIN_SIMILARITY
        return IntentResult(
            intent=None if unsure else index.names[best],
            confidence=round(confidence, 4),
            ranking=[
                IntentScore(intent=index.names[i], score=round(float(probabilities[i]), 4))
                for i in order
            ],
            unsure=unsure,
            threshold=threshold,
            method="embedding",
            model=encoder.name,
            model_version=encoder.version,
        )

    def _unsure(self, intents: IntentSet, threshold: float, encoder: Encoder) -> IntentResult:
        share = round(1.0 / len(intents.intents), 4)
        return IntentResult(
            intent=None,
            confidence=0.0,
            ranking=[IntentScore(intent=name, score=share) for name in intents.names()],
            unsure=True,
            threshold=threshold,
            method="embedding",
            model=encoder.name,
            model_version=encoder.version,
        )

    def _index(self, intents: IntentSet, encoder: Encoder) -> _Index:
        key = _fingerprint(intents, encoder)
        with _indexes_lock:
            cached = _indexes.get(key)
            if cached is not None:
                _indexes.move_to_end(key)
                return cached
        names: list[str] = []
        matrices: list[Vector] = []
        owners: dict[str, set[str]] = {}
        for intent in intents.intents:
            for example in intent.examples:
                owners.setdefault(normalized_key(example), set()).add(intent.name)
            # An intent with no examples is still reachable through its name and keywords.
            anchors = intent.examples + intent.keywords or [
                intent.description or intent.label or intent.name.replace("_", " ")
            ]
            names.append(intent.name)
            matrices.append(encoder.encode(anchors))
        exact = {key: next(iter(o)) for key, o in owners.items() if key and len(o) == 1}
        index = _Index(names=names, matrices=matrices, exact=exact)
        with _indexes_lock:
            _indexes[key] = index
            while len(_indexes) > _INDEX_CACHE:
                _indexes.popitem(last=False)
        return index


def _fingerprint(intents: IntentSet, encoder: Encoder) -> str:
    payload = json.dumps(
        [encoder.name, encoder.version, intents.model_dump(include={"intents"})], sort_keys=True
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _top_k_mean(similarities: Vector) -> float:
    k = min(TOP_K, similarities.shape[0])
    top = np.partition(similarities, -k)[-k:]
    return float(top.mean())


def _softmax(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    shifted: npt.NDArray[np.float64] = np.exp(values - values.max())
    result: npt.NDArray[np.float64] = shifted / shifted.sum()
    return result


def match_rules(
    text: str, rules: list[KeywordRule], known: set[str] | None = None
) -> tuple[str, str, float] | None:
    """The best keyword rule hit as ``(intent, phrase, similarity 0-100)``, or None.

    Phrases are compared word-window by word-window on the folded text, so "no funsiona" matches
    "no funciona" but "baja" does not match inside "trabajar". Words of four letters or fewer must
    match exactly: one typo in a short word is usually another word.
    """
    tokens = words(text)
    if not tokens:
        return None
    best: tuple[str, str, float] | None = None
    for rule in rules:
        if known is not None and rule.intent not in known:
            continue
        for phrase in rule.phrases:
            similarity = phrase_similarity(phrase, tokens, whole_message=rule.whole_message)
            if similarity >= rule.min_similarity and (
                best is None
                or similarity > best[2]
                or (similarity == best[2] and len(phrase) > len(best[1]))
            ):
                best = (rule.intent, phrase, similarity)
    return best


def phrase_similarity(phrase: str, tokens: list[str], whole_message: bool = False) -> float:
    """Best similarity (0-100) of ``phrase`` to a window of ``tokens`` of the same length."""
    target = words(phrase)
    if not target:
        return 0.0
    size = len(target)
    if whole_message:
        windows = [tokens] if abs(len(tokens) - size) <= 0 else []
    else:
        windows = [tokens[i : i + size] for i in range(0, max(len(tokens) - size + 1, 0))]
    best = 0.0
    joined_target = " ".join(target)
    for window in windows:
        if not _short_words_equal(target, window):
            continue
        score = fuzz.ratio(joined_target, " ".join(window))
        best = max(best, score)
    return best


def _short_words_equal(target: list[str], window: list[str]) -> bool:
    return all(len(a) > 4 or a == b for a, b in zip(target, window, strict=True))


def normalized_key(text: str) -> str:
    """The folded form used to de-duplicate examples (e.g. agent corrections)."""
    return " ".join(words(fold(text)))
