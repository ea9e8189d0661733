"""Playbook 2 (cart or quote recovery) and scene 2, end to end through HTTP."""

from __future__ import annotations

import pytest

from tests.playbooks.harness import World, body_of, subject, texts, world

__all__ = ["world"]
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
HOUR = 3600


def test_cart_recovery_reminds_follows_up_with_sms_and_counts_the_recovery(
    world: World
) -> None:
    flow = world.flow("cart_recovery")
    ana = world.contact()
    world.event("cart.abandoned", {"summary": "2 remeras", "total": "$ 25.000",
                                   "payment_url": "https://shop.example/pay/abc"})
    world.wait_for(lambda: world.whatsapp() and world.emails(), "reminder and email")
    (reminder,) = world.whatsapp()
    assert reminder["type"] == "template"
    assert reminder["template"]["name"] == "carrito_recordatorio"
    (mail,) = world.emails()
    assert subject(mail) == "Tu carrito te espera" and mail["To"] == "ana@example.com"
    assert "https://shop.example/pay/abc" in body_of(mail)
    world.wait_for(lambda: world.waiting_at(flow["id"], "await"), "the reply wait")

    # No answer within a day: the last-call SMS (a day later, so the workspace's daily
    # frequency cap of marketing messages lets it through).
    world.advance(26 * HOUR)
    (sms,) = world.wait_for(world.sms, "the SMS")
    assert sms["To"] == ana["phone"] and sms["Body"].startswith("Último aviso")
    world.wait_for(lambda: world.waiting_at(flow["id"], "await_payment"), "payment wait")

    world.advance(2 * HOUR)
    world.event("order.paid", {"amount": 25000, "order": "A-1"})
    world.wait_for(lambda: world.ended(flow["id"]), "the run to end")
    assert "carrito-recuperado" in world.contact_now(ana["id"])["tags"]
    kpis = world.kpis(flow["id"])
    assert kpis["recovery_rate"]["value"] == 100.0
    assert kpis["average_ticket"]["value"] == 25000.0
    assert kpis["attributed_revenue"]["value"] == 25000.0
    assert kpis["last_call_rate"]["value"] == 100.0
    assert texts(world.whatsapp()) == ["template:carrito_recordatorio"]
