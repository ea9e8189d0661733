"""Seed 000's scenes 2 and 3 as their own flows, end to end through HTTP."""

from __future__ import annotations

import pytest

from tests.playbooks.harness import World, texts, world

__all__ = ["world"]
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
HOUR = 3600


def test_scene_2_cart_reminder_pay_button_and_payment(world: World) -> None:
    flow = world.flow("scene_abandoned_cart")
    world.contact()
    world.event("cart.abandoned", {"summary": "2 remeras", "total": "$ 25.000",
                                   "payment_url": "https://shop.example/pay/abc"})
    # The scene's communication window (09:00–21:00 in the contact's zone) holds it until 9.
    world.wait_for(lambda: world.waiting_at(flow["id"], "reminder"), "the window")
    world.advance(5 * HOUR)
    world.wait_for(lambda: world.waiting_at(flow["id"], "await"), "the reply wait")
    assert texts(world.wait_for(world.whatsapp)) == ["template:carrito_recordatorio"]
    world.wait_for(world.emails, "the payment email")
    world.tap_template("pay", "Pagar ahora")
    world.wait_for(lambda: world.waiting_at(flow["id"], "await_payment"), "the payment wait")
    sent = world.wait_for(lambda: len(world.whatsapp()) == 2 and world.whatsapp())
    assert texts(sent)[1] == "¡Genial! Este es tu link de pago: https://shop.example/pay/abc"
    world.event("order.paid", {"amount": 25000})
    world.wait_for(lambda: world.ended(flow["id"]), "the run to end")
    kpis = world.kpis(flow["id"])
    assert kpis["recovery_rate"]["value"] == 100.0
    assert kpis["recovered_in_flow"]["value"] == 100.0


def test_scene_3_self_diagnosis_solved(world: World) -> None:
    flow = world.flow("scene_support_self_service")
    world.contact()
    world.say("No puedo acceder a mi cuenta")
    world.wait_for(lambda: world.waiting_at(flow["id"], "steps"), "the steps")
    assert texts(world.wait_for(world.whatsapp))[0].startswith("Probá esto: 1) Entrá a")
    world.tap("solved", "Sí, gracias")
    world.wait_for(lambda: world.ended(flow["id"]), "the run to end")
    kpis = world.kpis(flow["id"])
    assert kpis["fcr"]["value"] == 100.0
    assert kpis["time_to_handoff"]["value"] is None and kpis["time_to_handoff"]["reason"]
