"""Seed 000's three scenes as their own flows, end to end through HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from tests.playbooks.harness import PHONE, World, body_of, subject, texts, world
from tests.support.fakes.http import Recorded, Reply

__all__ = ["world"]
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
HOUR = 3600
AD = {"source_url": "https://fb.me/3cr4Wqqkv", "source_id": "120212345678901234",
      "source_type": "ad", "headline": "Sillones: 20% off", "body": "Escribinos por WhatsApp",
      "media_type": "image", "ctwa_clid": "ARAkLkA8rmlFeiCktEJQ"}
CARLA, DANI = "5491100000003", "5491100000004"


def test_scene_1_from_the_ad_to_a_qualified_lead(world: World) -> None:
    # The CRM knows Dani as a customer: her lead is high priority without a buying intent.
    world.partner.answer = lambda r: Reply(200, {
        "customer": r.query.get("phone") == [f"+{DANI}"]})
    flow = world.flow("scene_lead_from_ad", team="comercial",
                      crm_lookup_url=world.partner.url + "/api/contacts?phone="
                                                         "{{ contact.phone | url_encode }}")
    ana = world.contact()
    world.contact(phone=f"+{DANI}", email="dani@example.com", first_name="Dani")

    # Ana clicks the ad and wants to buy: priority lead.
    world.say("Hola! quiero comprar el sillón, precio?", referral=AD)
    world.wait_for(lambda: world.waiting_at(flow["id"], "advisor"), "the adviser handoff")
    (lookup,) = world.partner.requests
    assert lookup.method == "GET" and lookup.path == "/api/contacts"
    assert lookup.query == {"phone": [PHONE]}
    contact = world.contact_now(ana["id"])
    assert {"lead", "origen-anuncio"} <= set(contact["tags"])
    assert contact["fields"]["interest"] == "buy"
    (welcome,) = world.wait_for(world.emails, "the welcome email")
    assert welcome["To"] == "ana@example.com" and subject(welcome) == "¡Bienvenido, Ana!"
    assert "Un asesor te contacta en minutos" in body_of(welcome)
    (conversation,) = world.wait_for(lambda: world.conversations(PHONE), "the conversation")
    assert conversation["priority"] == "high" and conversation["run_id"]
    assert conversation["note"] == "Lead prioritario (buy)"
    assert world.whatsapp() == []  # the adviser answers, not a courtesy message

    # The adviser answers from the inbox two minutes later: to the fake Graph API.
    world.advance(120)
    world.agent_reply(PHONE, "Hola Ana, soy Beto de ventas. ¿Qué medida buscás?")
    (answer,) = world.wait_for(world.whatsapp, "the adviser's message")
    assert answer["to"] == PHONE.lstrip("+")
    assert answer["text"]["body"] == "Hola Ana, soy Beto de ventas. ¿Qué medida buscás?"

    # Carla has a product problem and is not a customer: the courtesy message.
    world.say("Mi producto no funciona, necesito soporte", wa_id=CARLA, name="Carla Gómez",
              referral=AD)
    sent = world.wait_for(lambda: len(world.whatsapp()) == 2 and world.whatsapp())
    assert sent[1]["to"] == CARLA
    assert "Gracias por escribirnos. En breve te respondemos." in texts(sent)[1]
    # Dani is a customer in the CRM: priority lead, welcome email, adviser.
    world.say("Hola, consulta por el modelo nuevo", wa_id=DANI, name="Dani Ruiz",
              referral=AD)
    world.wait_for(lambda: len([m for m in world.emails() if m["To"] == "dani@example.com"]),
                   "Dani's welcome email")
    (dani_conversation,) = world.wait_for(lambda: world.conversations(f"+{DANI}"),
                                          "Dani's handoff")
    assert dani_conversation["priority"] == "high"
    dani = world.api.get("/api/v1/contacts", params={"q": DANI}).json()["items"][0]
    assert dani["fields"]["interest"] != "buy"  # the CRM made her a priority, not the intent
    lookups: list[Recorded] = world.partner.requests
    assert [r.query["phone"] for r in lookups] == [[PHONE], [f"+{CARLA}"], [f"+{DANI}"]]
    carla = world.api.get("/api/v1/contacts", params={"q": CARLA}).json()["items"][0]
    assert {"lead", "origen-anuncio"} <= set(carla["tags"])

    runs: list[dict[str, Any]] = world.runs(flow["id"])
    assert sorted(r["status"] for r in runs) == ["completed", "waiting", "waiting"]
    kpis = world.kpis(flow["id"])
    assert kpis["priority_leads"]["value"] == 66.67
    assert kpis["priority_leads"]["numerator"] == 2
    assert kpis["time_to_first_response"]["value"] == 0.0  # email and WhatsApp at once
    assert kpis["time_to_first_response"]["denominator"] == 3
    assert kpis["time_to_adviser"]["value"] == 120.0  # Ana's; nobody answered Dani yet
    assert kpis["time_to_adviser"]["denominator"] == 1



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
