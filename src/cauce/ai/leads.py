"""Buying signals for lead scoring: points per signal and a hot / warm / cold temperature.

Each signal counts once per message, whatever the spelling ("cuanto sale", "cuánto saleee?"),
so a customer repeating a question does not inflate the score. The runtime adds the points to
the contact's lead score; the temperature routes the flow (hot: alert an adviser now).
"""

from __future__ import annotations

from dataclasses import dataclass

from cauce.ai.intents import phrase_similarity
from cauce.ai.text import words
from cauce.ai.types import LeadResult, LeadSignal

HOT_POINTS = 50
WARM_POINTS = 20


@dataclass(frozen=True)
class SignalRule:
    name: str
    points: int
    phrases: tuple[str, ...]


DEFAULT_SIGNALS: tuple[SignalRule, ...] = (
    SignalRule("payment", 35, (
        "como pago", "como te pago", "como les pago", "como abono", "medios de pago",
        "formas de pago", "link de pago", "te transfiero", "transferencia", "mercado pago",
        "pago con tarjeta", "aceptan tarjeta", "cbu", "alias", "how do i pay", "payment link",
        "pay by card", "payment methods", "can i pay",
    )),
    SignalRule("purchase_intent", 30, (
        "quiero comprar", "lo compro", "me lo llevo", "me la llevo", "lo quiero", "la quiero",
        "quiero encargar", "hacer un pedido", "quiero contratar", "i want to buy",
        "i'll take", "i will take", "place an order", "i want to order", "ready to buy",
    )),
    SignalRule("availability_now", 25, (
        "disponible hoy", "para hoy", "hoy mismo", "lo tenes", "hay stock", "tenes stock",
        "tienen stock", "en stock", "disponible", "available today", "in stock",
        "available now", "today",
    )),
    SignalRule("price", 20, (
        "precio", "cuanto sale", "cuanto cuesta", "cuanto vale", "cuanto esta", "valor",
        "cotizacion", "presupuesto", "price", "how much", "cost", "quote",
    )),
    SignalRule("delivery", 10, (
        "envio", "envios", "entrega", "retiro", "retirar", "shipping", "delivery", "pick up",
    )),
    SignalRule("quantity", 10, (
        "unidades", "por mayor", "x mayor", "al por mayor", "cajas", "wholesale", "units",
        "bulk",
    )),
    SignalRule("urgency", 10, (
        "urgente", "cuanto antes", "ya mismo", "lo antes posible", "asap", "urgent",
        "right now",
    )),
    SignalRule("not_now", -25, (
        "solo mirando", "solo consultaba", "mas adelante", "por ahora no", "no por ahora",
        "just looking", "maybe later", "not now",
    )),
)


def lead_signals(text: str, rules: tuple[SignalRule, ...] = DEFAULT_SIGNALS) -> LeadResult:
    """Buying signals in ``text``, their points and the resulting temperature."""
    tokens = words(text)
    found: list[LeadSignal] = []
    for rule in rules:
        best_phrase, best = "", 0.0
        for phrase in rule.phrases:
            similarity = phrase_similarity(phrase, tokens)
            if similarity > best:
                best_phrase, best = phrase, similarity
        if best >= 85:
            found.append(LeadSignal(name=rule.name, points=rule.points, matched=best_phrase))
    points = max(0, sum(signal.points for signal in found))
    temperature = "hot" if points >= HOT_POINTS else "warm" if points >= WARM_POINTS else "cold"
    return LeadResult(signals=found, points=points, temperature=temperature)
