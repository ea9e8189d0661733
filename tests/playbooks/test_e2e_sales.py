"""Reactivation (seed 001), lead capture (playbook 1) and lead scoring (playbook 6), end to
end through HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from tests.playbooks.harness import PHONE, World, body_of, subject, texts, world

__all__ = ["world"]
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
HOUR, DAY = 3600, 86400


def _pipeline(world: World, name: str, stages: list[str]) -> None:
    response = world.api.post("/api/v1/pipelines", json={"name": name, "stages": stages})
    assert response.status_code == 201, response.text


def _opportunity(world: World, contact_id: int, **fields: Any) -> dict[str, Any]:
    response = world.api.post("/api/v1/opportunities", json={"contact_id": contact_id,
                                                             **fields})
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def _patch(world: World, opp_id: int, **fields: Any) -> dict[str, Any]:
    response = world.api.patch(f"/api/v1/opportunities/{opp_id}", json=fields)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def test_reactivation_waits_a_business_week_sends_the_testimonial_and_books_a_call(
    world: World
) -> None:
    flow = world.flow("reactivation")
    _pipeline(world, "Ventas", ["Nuevo", "Volumetric Appenders", "Cierre"])
    ana = world.contact()
    opp = _opportunity(world, ana["id"], pipeline="Ventas", stage="Volumetric Appenders",
                       name="Plan anual", value=1200)
    other = world.contact(phone="+5491100000002", email="beto@example.com", first_name="Beto")
    other_opp = _opportunity(world, other["id"], pipeline="Ventas", stage="Nuevo")
    _patch(world, other_opp["id"], status="abandoned")  # another stage: no run
    _patch(world, opp["id"], status="abandoned")
    world.wait_for(lambda: world.waiting_at(flow["id"], "wait7"), "the 7-day wait")
    assert len(world.runs(flow["id"])) == 1

    world.advance(6 * DAY + 12 * HOUR)
    world.say("Hola, sigo interesada en el plan")  # opens the customer-service window
    world.advance(12 * HOUR)
    world.wait_for(world.whatsapp, "the testimonial template")
    (template,) = world.whatsapp()
    assert template["type"] == "template"
    assert template["template"]["name"] == "reactivacion_testimonio"
    world.wait_for(lambda: world.waiting_at(flow["id"], "await"), "the reply wait")

    world.tap_template("call", "Llámenme")
    world.wait_for(lambda: world.ended(flow["id"]), "the run to end")
    (ticket,) = world.wait_for(world.tickets, "the call ticket")
    assert ticket["subject"] == "Llamar a Ana Pérez (reactivación)"
    assert ticket["priority"] == "high" and ticket["team"] == "ventas"
    assert world.emails() == []  # the window was open: no fallback email
    kpis = world.kpis(flow["id"])
    assert kpis["reply_rate"]["value"] == 100.0
    assert kpis["calls_requested"]["value"] == 1
    assert kpis["email_fallback"]["value"] == 0.0
    assert kpis["won"]["value"] == 0.0

    # The seller wins it later: the KPI follows the opportunity.
    _patch(world, opp["id"], status="won")
    assert world.kpis(flow["id"])["won"]["value"] == 100.0


def test_reactivation_with_the_window_closed_emails_instead(world: World) -> None:
    flow = world.flow("reactivation", first_wait="2d")
    _pipeline(world, "Ventas", ["Volumetric Appenders"])
    ana = world.contact()
    opp = _opportunity(world, ana["id"], pipeline="Ventas")
    _patch(world, opp["id"], status="abandoned")
    world.advance(2 * DAY + 2 * HOUR)  # resumes Mon–Fri from 05:00 in the contact's zone
    (mail,) = world.wait_for(world.emails, "the fallback email")
    assert subject(mail) == "¿Retomamos?" and "¿seguimos con tu propuesta?" in body_of(mail)
    assert world.whatsapp() == []
    world.wait_for(lambda: world.ended(flow["id"]), "the run to end")
    assert world.kpis(flow["id"])["email_fallback"]["value"] == 100.0


def test_lead_capture_qualifies_tags_welcomes_and_alerts_the_adviser(world: World) -> None:
    flow = world.flow("lead_capture", alert_target="email",
                      alert_to="asesor@tienda.example")
    world.contact(email=None, first_name=None, last_name=None)
    world.say("Escribinos")
    world.wait_for(world.whatsapp, "the qualified welcome")
    (welcome,) = world.whatsapp()
    assert welcome["type"] == "interactive"
    assert welcome["interactive"]["body"]["text"].startswith("Hola Ana 👋 Gracias por escribirnos")
    assert [b["reply"]["title"] for b in welcome["interactive"]["action"]["buttons"]] == [
        "Comprar ahora", "Asesor comercial", "Soporte de producto"]

    world.tap("buy", "Comprar ahora")
    world.wait_for(lambda: world.ended(flow["id"]), "the run to end")
    contact = world.api.get("/api/v1/contacts", params={"q": "16505551234"}).json()["items"][0]
    assert {"interes-compra", "lead", "prioridad-alta", "lead-calificado"} <= set(
        contact["tags"])
    alert = world.wait_for(lambda: [m for m in world.emails()
                                    if m["To"] == "asesor@tienda.example"], "the alert")
    assert alert[0]["Subject"].startswith("Lead prioritario")
    sent = world.wait_for(lambda: len(world.whatsapp()) == 2 and world.whatsapp())
    assert texts(sent)[1].startswith("¡Gracias")
    kpis = world.kpis(flow["id"])
    assert kpis["qualified_rate"]["value"] == 100.0
    assert kpis["adviser_alert_rate"]["value"] == 100.0
    assert kpis["time_to_first_response"]["value"] is not None


def test_lead_scoring_alerts_on_a_hot_lead_moves_it_to_sql_and_hands_it_to_sales(
    world: World
) -> None:
    flow = world.flow("lead_scoring", alert_target="email", alert_to="asesor@tienda.example")
    _pipeline(world, "Ventas", ["Nuevo", "Calificado", "Cierre"])
    ana = world.contact(tags=["cliente"])
    opp = _opportunity(world, ana["id"], pipeline="Ventas")
    world.say("Hola! precio del sillón? lo quiero comprar, está disponible hoy?")
    world.wait_for(lambda: world.waiting_at(flow["id"], "adviser"), "the handoff to sales")
    contact = world.contact_now(ana["id"])
    assert "lead-caliente" in contact["tags"] and contact["lead_score"] >= 40
    (alert,) = world.wait_for(world.emails, "the adviser's alert")
    assert alert["To"] == "asesor@tienda.example" and "Lead caliente" in body_of(alert)
    world.wait_for(lambda: world.api.get(f"/api/v1/opportunities/{opp['id']}").json()[
        "stage"] == "Calificado", "the opportunity in the SQL stage")
    world.wait_for(world.whatsapp, "the answer")
    assert texts(world.whatsapp())[0].startswith("¡Gracias! Un asesor te escribe")
    (conversation,) = world.wait_for(lambda: world.conversations(PHONE), "the conversation")
    assert conversation["priority"] == "high"
    assert conversation["note"] == f"Lead caliente ({contact['lead_score']} puntos)"
    kpis = world.kpis(flow["id"])
    assert kpis["time_to_human_contact"]["value"] is None
    assert kpis["time_to_human_contact"]["reason"]

    # The adviser writes from the inbox five minutes later: the human contact is measured.
    world.advance(300)
    world.agent_reply(PHONE, "Hola Ana, el sillón está en stock: $ 350.000. ¿Te lo reservo?")
    sent = world.wait_for(lambda: len(world.whatsapp()) == 2 and world.whatsapp())
    assert texts(sent)[1] == "Hola Ana, el sillón está en stock: $ 350.000. ¿Te lo reservo?"
    kpis = world.kpis(flow["id"])
    assert kpis["time_to_human_contact"]["value"] == 300.0
    assert kpis["hot_leads"]["value"] == 1 and kpis["mql_to_sql"]["value"] == 100.0
    assert kpis["close_rate_warm"]["value"] is None and kpis["close_rate_warm"]["reason"]
    _patch(world, opp["id"], status="won")
    assert world.kpis(flow["id"])["close_rate_hot"]["value"] == 100.0


def test_lead_scoring_nurtures_a_warm_lead_for_three_days_by_whatsapp_and_email(
    world: World
) -> None:
    flow = world.flow("lead_scoring")
    _pipeline(world, "Ventas", ["Nuevo", "Calificado"])
    ana = world.contact()
    opp = _opportunity(world, ana["id"], pipeline="Ventas")
    world.say("Hola, cuánto sale el envío a Córdoba?")  # one signal: 15 points, warm
    world.wait_for(lambda: world.waiting_at(flow["id"], "day_1"), "the first day")
    contact = world.contact_now(ana["id"])
    assert "lead-templado" in contact["tags"] and contact["lead_score"] == 15
    (day_0,) = world.wait_for(world.whatsapp, "the catalogue")
    assert day_0["text"]["body"] == ("¡Gracias por tu interés! Te paso el catálogo con precios: "
                                     "https://tienda.example.com")
    assert world.emails() == []

    world.advance(DAY)
    (mail,) = world.wait_for(world.emails, "the day-1 email")
    assert mail["To"] == "ana@example.com"
    assert subject(mail) == "Lo que más eligen nuestros clientes"
    assert body_of(mail).startswith("Hola Ana, te contamos qué eligen más")
    world.wait_for(lambda: world.waiting_at(flow["id"], "day_2"), "the second day")

    world.advance(DAY)  # 48 h after her message the window is closed: the template
    sent = world.wait_for(lambda: len(world.whatsapp()) == 2 and world.whatsapp())
    assert sent[1]["type"] == "template"
    assert sent[1]["template"]["name"] == "nutricion_seguimiento"
    world.wait_for(lambda: world.waiting_at(flow["id"], "day_3"), "the third day")
    world.advance(DAY)
    world.wait_for(lambda: world.ended(flow["id"]), "the run to end")
    assert "nutricion-completa" in world.contact_now(ana["id"])["tags"]
    assert len(world.emails()) == 1 and len(world.whatsapp()) == 2
    assert world.tickets() == [] and world.conversations() == []
    assert world.api.get(f"/api/v1/opportunities/{opp['id']}").json()["stage"] == "Nuevo"
    kpis = world.kpis(flow["id"])
    assert kpis["hot_leads"]["value"] == 0 and kpis["mql_to_sql"]["value"] == 0.0
    assert kpis["close_rate_warm"]["value"] == 0.0
    assert kpis["close_rate_hot"]["value"] is None
    assert kpis["time_to_human_contact"]["value"] is None
    _patch(world, opp["id"], status="won")
    assert world.kpis(flow["id"])["close_rate_warm"]["value"] == 100.0


def test_lead_scoring_tags_a_cold_lead_and_sends_nothing(world: World) -> None:
    flow = world.flow("lead_scoring", signal_points=5)
    _pipeline(world, "Ventas", ["Nuevo"])
    ana = world.contact()
    opp = _opportunity(world, ana["id"], pipeline="Ventas")
    world.say("Solo miraba, tienen stock?")  # one signal at 5 points: under the warm 15
    world.wait_for(lambda: world.ended(flow["id"]), "the run to end")
    contact = world.contact_now(ana["id"])
    assert "lead-frio" in contact["tags"] and contact["lead_score"] == 5
    assert not {"lead-caliente", "lead-templado"} & set(contact["tags"])
    world.advance(3 * DAY)
    world.wait_for(lambda: world.ended(flow["id"]), "nothing more")
    assert world.whatsapp() == [] and world.emails() == [] and world.conversations() == []
    kpis = world.kpis(flow["id"])
    assert kpis["close_rate_cold"]["value"] == 0.0
    assert kpis["mql_to_sql"]["value"] is None and kpis["mql_to_sql"]["reason"]
    _patch(world, opp["id"], status="won")
    assert world.kpis(flow["id"])["close_rate_cold"]["value"] == 100.0
