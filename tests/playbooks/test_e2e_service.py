"""Support with handoff (playbook 3), post-sale NPS (playbook 4), B2B onboarding (playbook 5)
and operations and risk (playbook 7), end to end through HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from tests.playbooks.harness import PHONE, World, body_of, subject, texts, world

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
    (ticket,) = world.wait_for(world.tickets, "the recovery task")
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


@pytest.mark.parametrize(("score", "category"), [("10", "promoter"), ("8", "passive")])
def test_post_sale_nps_promoter_gets_the_review_request_and_the_referral_list_passive_thanks(
    world: World, score: str, category: str
) -> None:
    flow = world.flow("post_sale_nps", ask_after="2h")
    ana = world.contact()
    world.event("order.delivered", {"order": "A-2"})
    world.wait_for(lambda: world.waiting_at(flow["id"], "wait"), "the delay")
    world.advance(2 * HOUR)
    world.wait_for(lambda: world.waiting_at(flow["id"], "score_wait"), "the score wait")
    world.say(score)
    world.wait_for(lambda: world.waiting_at(flow["id"], "reason_wait"), "the reason wait")
    world.say("Llegó rápido y bien embalado")
    world.wait_for(lambda: world.ended(flow["id"]), "the run to end")
    sent = texts(world.wait_for(lambda: len(world.whatsapp()) == 3 and world.whatsapp()))
    assert sent[1] == "¡Gracias! ¿Qué fue lo que más influyó en tu puntuación?"
    contact = world.contact_now(ana["id"])
    assert contact["fields"]["nps_category"] == category
    assert world.tickets() == [] and "detractor" not in contact["tags"]
    kpis = world.kpis(flow["id"])
    assert kpis["response_rate"]["value"] == 100.0 and kpis["tickets_open"]["value"] == 0
    if category == "promoter":
        assert sent[2] == ("¡Nos alegra mucho! ¿Nos dejarías una reseña? Te lleva un minuto: "
                           "https://g.page/r/review")
        assert world.whatsapp()[2]["text"]["preview_url"] is True
        assert "referidos" in contact["tags"]
        assert kpis["nps"]["value"] == 100.0 and kpis["review_requests"]["value"] == 100.0
        assert kpis["reviews"]["value"] == 0.0
        # Her review arrives from the review platform's integration: the KPI counts it.
        world.event("review.created", {"rating": 5})
        world.wait_for(lambda: world.kpis(flow["id"])["reviews"]["value"] == 100.0,
                       "the review to count")
    else:
        assert sent[2] == "¡Gracias por tu respuesta! Vamos a seguir mejorando."
        assert "referidos" not in contact["tags"]
        assert kpis["nps"]["value"] == 0.0 and kpis["review_requests"]["value"] == 0.0
        assert kpis["reviews"]["value"] is None and kpis["reviews"]["reason"]


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


@pytest.mark.parametrize("erp", [False, True], ids=["no-erp", "erp-note"])
def test_operations_risk_flags_escalates_pauses_notes_alerts_and_hands_over(
    world: World, erp: bool
) -> None:
    extra = {"erp_webhook_url": world.partner.url + "/hooks/incidents"} if erp else {}
    flow = world.flow("operations_risk", alert_target="email",
                      alert_to="operaciones@tienda.example", **extra)
    ana = world.contact()
    world.say("Quiero la devolución del pedido, llegó roto")
    world.wait_for(lambda: world.waiting_at(flow["id"], "human"), "the handoff")
    contact = world.contact_now(ana["id"])
    assert "riesgo" in contact["tags"] and contact["fields"]["risk_kind"] == "return"
    (ticket,) = world.wait_for(world.tickets, "the escalation ticket")
    assert ticket["team"] == "operaciones" and ticket["priority"] == "urgent"
    assert ticket["subject"] == "Riesgo (return): Ana Pérez"
    (alert,) = world.wait_for(world.emails, "the alert")
    assert alert["To"] == "operaciones@tienda.example"
    assert subject(alert) == "⚠️ Riesgo: return"
    (answer,) = world.wait_for(world.whatsapp, "the answer")
    assert answer["text"]["body"].startswith("Recibimos tu mensaje")
    (conversation,) = world.wait_for(lambda: world.conversations(PHONE), "the conversation")
    assert conversation["priority"] == "urgent" and conversation["note"].startswith("return: ")
    if erp:  # the note in the ERP/sheet: a JSON POST from the HTTP request step
        (note,) = world.partner.requests_to("/hooks/incidents")
        assert note.headers["content-type"] == "application/json"
        body = note.json()
        assert body["contact"] == PHONE and body["name"] == "Ana Pérez"
        assert body["kind"] == "return" and body["evidence"]
    else:
        assert world.partner.requests == []

    # Someone from operations answers from the inbox 15 minutes later: the reaction time.
    world.advance(15 * 60)
    world.agent_reply(PHONE, "Hola Ana, soy Carla de operaciones. Ya gestiono el cambio.")
    sent = world.wait_for(lambda: len(world.whatsapp()) == 2 and world.whatsapp())
    assert texts(sent)[1] == "Hola Ana, soy Carla de operaciones. Ya gestiono el cambio."

    # An unusual spike reported by monitoring: the same escalation, no WhatsApp answer and no
    # conversation to hand over.
    beto: dict[str, Any] = world.contact(phone="+5491100000002", email="beto@example.com",
                                         first_name="Beto")
    world.event("risk.spike", {"kind": "chargebacks", "detail": "5 contracargos en 1 h"},
                contact={"phone": beto["phone"]})
    world.wait_for(lambda: len(world.tickets()) == 2, "the second escalation")
    world.wait_for(lambda: any(r["status"] == "completed" for r in world.runs(flow["id"])),
                   "the spike's run to end")
    if erp:
        notes = world.wait_for(lambda: len(world.partner.requests) == 2
                               and world.partner.requests, "the second ERP note")
        assert notes[1].json()["contact"] == beto["phone"]
        assert notes[1].json()["evidence"]
    kpis = world.kpis(flow["id"])
    assert kpis["incidents_flagged"]["value"] == 2
    assert kpis["escalation_rate"]["value"] == 100.0
    assert kpis["incidents_resolved"]["value"] == 0
    assert kpis["reaction_time"]["value"] == 900.0
    assert kpis["reaction_time"]["denominator"] == 1  # the spike had no conversation
    assert len(world.whatsapp()) == 2 and len(world.conversations()) == 1
