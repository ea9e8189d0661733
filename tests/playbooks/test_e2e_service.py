"""Support with handoff (playbook 3), post-sale NPS (playbook 4), B2B onboarding (playbook 5)
and operations and risk (playbook 7), end to end through HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from tests.playbooks.harness import World, body_of, subject, texts, world

__all__ = ["world"]
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
HOUR, DAY = 3600, 86400


def test_support_self_diagnosis_solves_it_and_asks_for_csat(world: World) -> None:
    flow = world.flow("support_handoff")
    world.contact()
    world.say("Hola, la app no funciona, no puedo acceder")
    world.wait_for(world.whatsapp, "the suggested steps")
    (steps,) = world.whatsapp()
    assert steps["interactive"]["body"]["text"].startswith("Probá esto: 1) Cerrá sesión")
    world.wait_for(lambda: world.waiting_at(flow["id"], "steps_not_working"), "the question")
    world.tap("solved", "Sí, gracias")
    world.wait_for(lambda: world.waiting_at(flow["id"], "csat_wait"), "the CSAT wait")
    world.say("5")
    world.wait_for(lambda: world.ended(flow["id"]), "the run to end")
    assert texts(world.wait_for(lambda: len(world.whatsapp()) == 4 and world.whatsapp()))[1:] \
        == ["¡Genial! Cualquier cosa, escribinos.",
            "¿Cómo te atendimos? Respondé con un número del 1 al 5 🙌",
            "¡Gracias por tu respuesta!"]
    assert world.tickets() == []
    kpis = world.kpis(flow["id"])
    assert kpis["fcr"]["value"] == 100.0 and kpis["csat"]["value"] == 5.0
    assert kpis["handoffs"]["value"] == 0.0 and kpis["tickets_opened"]["value"] == 0
    assert kpis["handling_time"]["value"] is not None


def test_support_not_solved_opens_a_ticket_and_waits_at_the_handoff(world: World) -> None:
    flow = world.flow("support_handoff", team="mesa-de-ayuda")
    ana = world.contact()
    world.say("Necesito la factura de marzo, me cobraron dos veces")
    world.wait_for(lambda: world.waiting_at(flow["id"], "steps_billing"), "the billing steps")
    assert texts(world.wait_for(world.whatsapp))[0].startswith("Tus facturas están en")
    world.tap("not_solved", "No, sigue igual")
    # The ticket (owner team, priority, the conversation) and the request to hand over; the
    # run waits at the handoff node until an agent hands the conversation back.
    (ticket,) = world.wait_for(world.tickets, "the ticket")
    assert ticket["team"] == "mesa-de-ayuda" and ticket["priority"] == "high"
    assert ticket["subject"] == "Soporte: billing — Ana Pérez"
    assert ticket["contact_id"] == ana["id"]
    world.wait_for(lambda: world.waiting_at(flow["id"], "human"), "the handoff")
    run = world.api.get(f"/api/v1/runs/{world.run(flow['id'])['id']}").json()
    handoff = [e for s in run["steps"] for e in s["output"]
               if e["type"] == "handoff_requested"]
    assert handoff and handoff[0]["team"] == "mesa-de-ayuda"
    assert handoff[0]["include_transcript"] is True
    kpis = world.kpis(flow["id"])
    assert kpis["fcr"]["value"] == 0.0 and kpis["handoffs"]["value"] == 100.0
    assert kpis["tickets_opened"]["value"] == 1
    assert kpis["csat"]["value"] is None and kpis["csat"]["reason"]


def test_post_sale_nps_detractor_gets_a_recovery_task_and_marketing_paused(
    world: World
) -> None:
    flow = world.flow("post_sale_nps")
    ana = world.contact()
    world.event("order.delivered", {"order": "A-1"})
    world.wait_for(lambda: world.waiting_at(flow["id"], "wait"), "the delay")
    assert world.whatsapp() == []
    world.advance(DAY)
    (ask,) = world.wait_for(world.whatsapp, "the NPS question")
    # The window is closed a day after the delivery: the approved template goes instead.
    assert ask["type"] == "template" and ask["template"]["name"] == "encuesta_nps"
    world.wait_for(lambda: world.waiting_at(flow["id"], "score_wait"), "the score wait")
    world.say("3")
    world.wait_for(lambda: world.waiting_at(flow["id"], "reason_wait"), "the reason wait")
    world.say("El pedido llegó tarde y roto")
    world.wait_for(lambda: world.ended(flow["id"]), "the run to end")
    (ticket,) = world.tickets()
    assert ticket["subject"] == "Recuperar cliente: Ana Pérez (NPS 3)"
    assert ticket["description"] == "NPS 3: El pedido llegó tarde y roto"
    contact = world.contact_now(ana["id"])
    assert "detractor" in contact["tags"] and contact["fields"]["nps_category"] == "detractor"
    sent = world.wait_for(lambda: len(world.whatsapp()) == 3 and world.whatsapp())
    assert texts(sent)[1:] == [
        "¡Gracias! ¿Qué fue lo que más influyó en tu puntuación?",
        "Lamentamos que no haya sido una buena experiencia. Alguien del equipo te contacta "
        "hoy para resolverlo."]
    kpis = world.kpis(flow["id"])
    assert kpis["nps"]["value"] == -100.0 and kpis["response_rate"]["value"] == 100.0
    assert kpis["tickets_open"]["value"] == 1
    assert kpis["review_requests"]["value"] == 0.0
    assert kpis["reviews"]["value"] is None  # no promoter was asked


def test_b2b_onboarding_from_a_won_deal_to_activation(world: World) -> None:
    flow = world.flow("b2b_onboarding")
    assert world.api.post("/api/v1/pipelines", json={
        "name": "Ventas", "stages": ["Propuesta", "Cierre"]}).status_code == 201
    ana = world.contact()
    opp = world.api.post("/api/v1/opportunities", json={
        "contact_id": ana["id"], "pipeline": "Ventas"}).json()
    assert world.api.patch(f"/api/v1/opportunities/{opp['id']}",
                           json={"status": "won"}).status_code == 200
    (kit,) = world.wait_for(world.emails, "the welcome kit")
    assert subject(kit) == "Bienvenido a bordo, Ana: tu kit de inicio"
    assert "ayuda.example.com/inicio" in body_of(kit)
    (hello,) = world.wait_for(world.whatsapp, "the welcome template")
    assert hello["template"]["name"] == "onboarding_bienvenida"
    world.wait_for(lambda: world.waiting_at(flow["id"], "goals_wait"), "the goals wait")
    world.say("Vender más por WhatsApp")
    world.wait_for(lambda: world.waiting_at(flow["id"], "owner_wait"), "the owner wait")
    world.say("Beto Gómez, beto@empresa.example")
    world.wait_for(lambda: world.waiting_at(flow["id"], "ask_integrations"), "integrations")
    world.tap("crm", "CRM")
    (ticket,) = world.wait_for(world.tickets, "the checklist")
    assert ticket["team"] == "customer-success"
    assert "Objetivos: Vender más por WhatsApp" in ticket["description"]
    assert "Integraciones: CRM" in ticket["description"]
    world.wait_for(lambda: world.waiting_at(flow["id"], "gap"), "the tutorial gap")
    world.advance(2 * DAY)
    world.wait_for(lambda: world.waiting_at(flow["id"], "await_activation"), "activation")
    sent = texts(world.whatsapp())
    assert sent[-2].startswith("Tutorial 1 (3 min)")
    assert sent[-1] == "template:onboarding_tutorial"  # two days later the window is closed
    world.event("account.activated", {"plan": "pro"})
    world.wait_for(lambda: world.ended(flow["id"]), "the run to end")
    assert "activado" in world.contact_now(ana["id"])["tags"]
    kpis = world.kpis(flow["id"])
    assert kpis["activation_7d"]["value"] == 100.0
    assert kpis["activation_30d"]["value"] == 100.0
    assert kpis["onboarding_answered"]["value"] == 100.0
    assert kpis["feature_adoption"]["value"] == 0.0


def test_operations_risk_flags_escalates_pauses_and_alerts(world: World) -> None:
    flow = world.flow("operations_risk", alert_target="email",
                      alert_to="operaciones@tienda.example")
    ana = world.contact()
    world.say("Quiero la devolución del pedido, llegó roto")
    world.wait_for(lambda: world.ended(flow["id"]), "the run to end")
    contact = world.contact_now(ana["id"])
    assert "riesgo" in contact["tags"] and contact["fields"]["risk_kind"] == "return"
    (ticket,) = world.tickets()
    assert ticket["team"] == "operaciones" and ticket["priority"] == "urgent"
    assert ticket["subject"] == "Riesgo (return): Ana Pérez"
    (alert,) = world.wait_for(world.emails, "the alert")
    assert alert["To"] == "operaciones@tienda.example"
    assert subject(alert) == "⚠️ Riesgo: return"
    (answer,) = world.wait_for(world.whatsapp, "the answer")
    assert answer["text"]["body"].startswith("Recibimos tu mensaje")

    # An unusual spike reported by monitoring: the same escalation, no WhatsApp answer.
    beto: dict[str, Any] = world.contact(phone="+5491100000002", email="beto@example.com",
                                         first_name="Beto")
    world.event("risk.spike", {"kind": "chargebacks", "detail": "5 contracargos en 1 h"},
                contact={"phone": beto["phone"]})
    world.wait_for(lambda: len(world.tickets()) == 2, "the second escalation")
    kpis = world.kpis(flow["id"])
    assert kpis["incidents_flagged"]["value"] == 2
    assert kpis["escalation_rate"]["value"] == 100.0
    assert kpis["incidents_resolved"]["value"] == 0
    assert kpis["reaction_time"]["value"] is None and kpis["reaction_time"]["reason"]
    assert len(world.whatsapp()) == 1
