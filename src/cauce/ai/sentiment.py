"""Offline sentiment for Spanish and English customer messages: a lexicon with negation.

A lexicon rather than embeddings because it is explainable ("malísimo" and 😡 made it negative),
handles voseo and slang by listing words, and costs microseconds. Negators flip the next three
words ("no me gustó", "not good"), intensifiers scale them, and emojis count like words.
"""

from __future__ import annotations

import re

from cauce.ai.text import fold, is_emoji
from cauce.ai.types import SentimentResult

_POSITIVE = {
    "gracias": 1.0, "genial": 1.5, "excelente": 2.0, "buenisimo": 2.0, "bueno": 1.0,
    "buena": 1.0, "buen": 0.8, "bien": 0.8, "perfecto": 1.5, "encanto": 2.0, "encanta": 2.0,
    "gusto": 1.0, "gusta": 1.0, "feliz": 1.5, "contento": 1.5, "contenta": 1.5, "rapido": 0.8,
    "rapida": 0.8, "recomiendo": 1.5, "joya": 1.5, "barbaro": 1.5, "espectacular": 2.0,
    "increible": 1.5, "amable": 1.2, "impecable": 2.0, "lindo": 1.0, "linda": 1.0,
    "divino": 1.5, "solucionado": 1.2, "resuelto": 1.2, "funciona": 0.6, "anda": 0.4,
    "crack": 1.5, "capo": 1.5, "ideal": 1.2, "mejor": 0.8, "super": 0.8, "thanks": 1.0,
    "thank": 1.0, "great": 1.5, "excellent": 2.0, "good": 1.0, "love": 2.0, "awesome": 2.0,
    "perfect": 1.5, "happy": 1.5, "amazing": 2.0, "nice": 1.0, "fast": 0.8, "helpful": 1.2,
    "recommend": 1.5, "fantastic": 2.0, "resolved": 1.2, "works": 0.6, "wonderful": 2.0,
}
_NEGATIVE = {
    "malo": 1.5, "mala": 1.5, "mal": 1.0, "pesimo": 2.5, "pesima": 2.5, "malisimo": 2.5,
    "malisima": 2.5, "horrible": 2.5, "terrible": 2.5, "desastre": 2.5, "verguenza": 2.5,
    "enojado": 2.0, "enojada": 2.0, "molesto": 1.5, "molesta": 1.5, "harto": 2.0, "harta": 2.0,
    "estafa": 2.5, "estafaron": 2.5, "robo": 2.0, "nunca": 0.8, "reclamo": 1.2, "queja": 1.5,
    "lento": 1.0, "tarde": 0.3, "demora": 1.2, "roto": 1.5, "rota": 1.5, "fallado": 1.5,
    "fallada": 1.5, "problema": 1.0, "error": 1.0, "decepcionado": 2.0, "decepcionada": 2.0,
    "indignante": 2.5, "indignado": 2.5, "denuncia": 2.0, "denunciar": 2.0, "odio": 2.5,
    "caliente": 1.0, "trucho": 2.0, "maleducado": 2.0, "maleducada": 2.0, "inaceptable": 2.5,
    "basta": 1.5, "spam": 1.5, "bad": 1.5, "worst": 2.5, "awful": 2.5, "hate": 2.5,
    "angry": 2.0, "upset": 2.0, "disappointed": 2.0, "broken": 1.5, "rude": 2.0, "scam": 2.5,
    "unacceptable": 2.5, "slow": 1.0, "never": 0.8, "problem": 1.0, "complaint": 1.5,
    "poor": 1.5, "useless": 2.0, "ridiculous": 2.0, "damaged": 1.5, "late": 0.8,
}
# Phrases whose words are neutral alone but negative together.
_NEGATIVE_PHRASES = {
    "no funciona": 1.5, "no anda": 1.5, "no puedo": 1.0, "no llego": 1.2, "no llega": 1.2,
    "nadie responde": 2.0, "nadie me responde": 2.0, "nadie contesta": 2.0,
    "no me responden": 2.0, "doesn't work": 1.5, "does not work": 1.5, "not working": 1.5,
    "no one answers": 2.0, "nobody answers": 2.0, "never arrived": 2.0, "dar bola": 0.0,
    "me da bola": 0.0, "no me dan bola": 2.0, "nadie me da bola": 2.0, "can't": 0.6,
}
_NEGATORS = {"no", "nunca", "ni", "tampoco", "sin", "not", "never", "dont", "didnt", "isnt",
             "wasnt", "nada", "no fue"}
_INTENSIFIERS = {"muy": 1.5, "re": 1.5, "super": 1.5, "tan": 1.3, "demasiado": 1.4,
                 "very": 1.5, "so": 1.3, "really": 1.4, "extremely": 1.8, "bastante": 1.2,
                 "totalmente": 1.5, "absolutamente": 1.5}
_POSITIVE_EMOJI = set("😀😃😄😁😊🙂😍🥰😘👍🙌👏💯❤💙💚🎉✨🤩😎🤗")
_NEGATIVE_EMOJI = set("😡😠🤬😤😞😢😭😩😫👎💔🙄😒😕☹🙁😖😣")
_TOKEN = re.compile(r"[a-zñ']+|[^\sa-z0-9ñ]")

THRESHOLD = 0.25


def sentiment(text: str) -> SentimentResult:
    """Label ``text`` positive / neutral / negative with a score in [-1, 1]."""
    folded = fold(text).replace("'", "")
    tokens = [t for t in _TOKEN.findall(folded) if t.strip()]
    total = 0.0
    hits = 0
    negate_left = 0
    boost = 1.0
    for token in tokens:
        if token in _NEGATORS:
            negate_left = 3
            continue
        if token in _INTENSIFIERS:
            boost = _INTENSIFIERS[token]
            continue
        weight = _POSITIVE.get(token, 0.0) - _NEGATIVE.get(token, 0.0)
        emoji = len(token) == 1 and is_emoji(token)
        if emoji:
            weight = 1.5 if token in _POSITIVE_EMOJI else -1.5 if token in _NEGATIVE_EMOJI else 0.0
        if weight:
            # An emoji states the feeling directly: "no está nada mal 👍" is not negated.
            if negate_left and not emoji:
                weight = -weight * 0.8
            total += weight * boost
            hits += 1
            boost = 1.0
        negate_left = max(0, negate_left - 1)
    for phrase, weight in _NEGATIVE_PHRASES.items():
        if weight and re.search(rf"(?<!\w){re.escape(phrase.replace(chr(39), ''))}(?!\w)", folded):
            total -= weight
            hits += 1
    exclamations = folded.count("!")
    if hits and exclamations >= 2:
        total *= 1.2
    # Squash to [-1, 1]: two strong words are already a clear opinion.
    score = max(-1.0, min(1.0, total / 3.0))
    label = "positive" if score >= THRESHOLD else "negative" if score <= -THRESHOLD else "neutral"
    confidence = abs(score) if label != "neutral" else 1.0 - abs(score) / THRESHOLD * 0.5
    return SentimentResult(label=label, score=round(score, 3), confidence=round(confidence, 3))
