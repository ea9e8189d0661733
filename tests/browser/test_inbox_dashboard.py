"""The inbox and the dashboard on the real routes with real data: a flow's handoff step opens
the conversation an agent works in the inbox (reply inside the 24-hour window, a note, take,
a template once the window closed, transfer to a team, close — which hands the run back to
the flow); runs of a published flow fill the dashboard's funnel. The screens' data mapping is
unit-tested with Vitest (web/src/api/inbox.test.ts)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import WebApp
from tests.browser.helpers import (
    advance_clock,
    api_call,
    axe_violations,
    describe,
    settle,
    sign_in_with_password,
    untranslated,
    use_language,
)

HANDOFF_FLOW = {
    "format": 1,
    "metadata": {"name": "Consulta por cuotas"},
    "triggers": [{"type": "inbound_message", "match": "keyword", "keywords": ["cuotas"]}],
    "nodes": [
        {"id": "agent", "type": "handoff",
         "config": {"priority": "high", "note": "Pregunta por cuotas del plan anual"},
         "exits": {"returned": "done", "failed": None}},
        {"id": "done", "type": "add_tag", "config": {"tags": ["atendida"]},
         "exits": {"next": None}},
    ],
}

FUNNEL_FLOW = {
    "format": 1,
    "metadata": {"name": "Interés en la demo"},
    "triggers": [{"type": "inbound_message", "match": "keyword", "keywords": ["tablero"]}],
    "nodes": [
        {"id": "ask", "type": "whatsapp_buttons", "name": "Pregunta",
         "config": {"body": "¿Te interesa una demo?", "timeout": "1d",
                    "buttons": [{"id": "demo_si", "title": "Sí"},
                                {"id": "demo_no", "title": "No"}]},
         "exits": {"demo_si": "interesado", "demo_no": None, "replied": None, "timeout": None,
                   "failed": None}},
        {"id": "interesado", "type": "add_tag", "name": "Interesado",
         "config": {"tags": ["quiere-demo"]}, "exits": {"next": None}},
    ],
}


def _publish(webapp: WebApp, document: dict[str, Any]) -> int:
    flow_id: int = api_call(webapp, "POST", "/flows", json={"document": document})["id"]
    api_call(webapp, "POST", f"/flows/{flow_id}/publish", json={})
    return flow_id


def _conversation(webapp: WebApp, name: str) -> dict[str, Any] | None:
    for status in ("open", "closed"):
        items = api_call(webapp, "GET", "/inbox/conversations",
                         params={"view": "all", "status": status, "q": name})["items"]
        if items:
            found: dict[str, Any] = items[0]
            return found
    return None


def test_inbox_works_a_handed_off_conversation(
    page: Page, webapp: WebApp, screenshots: Path, axe_source: str
) -> None:
    admin = next(u for u in api_call(webapp, "GET", "/users")["items"]
                 if u["email"] == webapp.demo.email)
    team = api_call(webapp, "POST", "/teams", json={
        "name": "ventas-bandeja", "assignment": "round_robin", "member_ids": [admin["id"]]})
    _publish(webapp, HANDOFF_FLOW)
    sent = api_call(webapp, "POST", "/simulator/messages", json={
        "phone": "+54 9 11 5555-0171", "name": "Lucía Gómez",
        "text": "Hola, ¿tienen cuotas para el plan anual?"})
    contact_id = sent["contact_id"]
    settle(webapp, lambda: _conversation(webapp, "Lucía Gómez"), "the handoff")

    use_language(page, "es")
    sign_in_with_password(page, webapp.demo.email, webapp.demo.password)
    page.get_by_role("link", name="Bandeja", exact=True).click()
    page.get_by_role("button", name="Sin asignar", exact=True).click()
    page.get_by_role("button", name=re.compile("Lucía Gómez")).click()
    conv = page.get_by_test_id("conversation")
    expect(conv).to_contain_text("Pregunta por cuotas del plan anual")
    expect(conv).to_contain_text("Hola, ¿tienen cuotas para el plan anual?")
    expect(conv).to_contain_text("Ventana de 24 horas abierta")

    conv.get_by_role("button", name="Tomarla").click()
    expect(page.get_by_role("status")).to_contain_text("La conversación es tuya.")
    expect(conv).to_contain_text(re.compile(r"Asignada a\s*Admin"))
    # inside the window: a free-form reply, queued for the contact's channel
    conv.get_by_label(re.compile("^Respuesta")).fill("¡Hola Lucía! Sí, hasta 12 cuotas.")
    conv.get_by_role("button", name="Enviar", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Respuesta enviada.")
    expect(conv.get_by_role("log")).to_contain_text("¡Hola Lucía! Sí, hasta 12 cuotas.")
    conv.get_by_label("Nota interna").fill("Cliente recurrente")
    conv.get_by_role("button", name="Agregar nota").click()
    expect(page.get_by_role("status")).to_contain_text("Nota agregada.")
    expect(conv.locator(".bubble.note")).to_contain_text("Cliente recurrente")
    settled = _conversation(webapp, "Lucía Gómez")
    assert settled and settled["assignee_id"] == admin["id"]
    assert settled["first_response_at"] is not None
    assert untranslated(page, "es") == []
    violations = axe_violations(page, axe_source)
    assert violations == [], describe(violations)
    page.screenshot(path=screenshots / "inbox-es.png")

    # a day later the window is closed: only a template goes out
    advance_clock(webapp, 25 * 3600)
    page.get_by_role("button", name="Mías", exact=True).click()
    page.get_by_role("button", name=re.compile("Lucía Gómez")).click()
    expect(conv).to_contain_text("solo permite una plantilla")
    conv.get_by_label("Nombre de la plantilla").fill("seguimiento")
    conv.get_by_role("button", name="Enviar plantilla").click()
    expect(page.get_by_role("status")).to_contain_text("Respuesta enviada.")
    page.screenshot(path=screenshots / "inbox-template-es.png")
    transcript = api_call(webapp, "GET", f"/simulator/contacts/{contact_id}/messages")["items"]
    outbound = [(m["kind"], m["text"]) for m in transcript if m["direction"] == "out"]
    assert ("text", "¡Hola Lucía! Sí, hasta 12 cuotas.") in outbound
    assert any(kind == "template" for kind, _ in outbound), outbound

    conv.get_by_label(re.compile("^Transferir a")).select_option(label="Equipo ventas-bandeja")
    conv.get_by_role("button", name="Transferir", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Conversación transferida.")
    settled = _conversation(webapp, "Lucía Gómez")
    assert settled and settled["team_id"] == team["id"]
    # System events are said in the UI's language, with people by name.
    expect(conv.get_by_role("log")).to_contain_text("asignada a Admin")
    expect(conv.get_by_role("log")).to_contain_text("transferida al equipo «ventas-bandeja»")

    # closing hands the run back: the flow goes on through its `returned` exit
    conv.get_by_label(re.compile("^Resolución")).select_option("resolved")
    conv.get_by_label(re.compile("^Nota de cierre")).fill("Le pasé los planes en cuotas")
    conv.get_by_role("button", name="Cerrar y devolver al flujo").click()
    expect(page.get_by_role("status")).to_contain_text("Conversación cerrada")
    expect(conv).to_contain_text(re.compile(r"Resolución\s*Resuelta"))
    settled = _conversation(webapp, "Lucía Gómez")
    assert settled and settled["status"] == "closed" and settled["resolution"] == "resolved"
    settle(webapp, lambda: "atendida" in api_call(
        webapp, "GET", f"/contacts/{contact_id}")["tags"], "the flow to resume after closing")
    page.get_by_label("Idioma").select_option("en")
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()
    expect(conv.get_by_role("log")).to_contain_text(
        "closed: resolved — Le pasé los planes en cuotas")
    assert untranslated(page, "en") == []
    page.screenshot(path=screenshots / "inbox-closed-en.png")


def test_dashboard_draws_the_funnel_of_real_runs(
    page: Page, webapp: WebApp, screenshots: Path, axe_source: str
) -> None:
    flow_id = _publish(webapp, FUNNEL_FLOW)
    contacts = []
    for i, name in enumerate(["Ana Tablero", "Beto Tablero"]):
        contacts.append(api_call(webapp, "POST", "/simulator/messages", json={
            "phone": f"+54 9 11 5555-02{i}0", "name": name, "text": "tablero"})["contact_id"])

    def asked(contact_id: int) -> str | None:
        for m in api_call(webapp, "GET", f"/simulator/contacts/{contact_id}/messages")["items"]:
            if m["direction"] == "out" and m["kind"] == "buttons":
                key: str | None = m["key"]
                return key
        return None

    key = settle(webapp, lambda: all(asked(c) for c in contacts) and asked(contacts[0]),
                 "the question to both contacts")
    api_call(webapp, "POST", "/simulator/messages", json={
        "contact_id": contacts[0], "text": "Sí", "button_id": "demo_si", "button_title": "Sí",
        "reply_to": key})
    settle(webapp, lambda: "quiere-demo" in api_call(
        webapp, "GET", f"/contacts/{contacts[0]}")["tags"], "the tap to be handled")

    use_language(page, "es")
    sign_in_with_password(page, webapp.demo.email, webapp.demo.password)
    page.get_by_role("link", name="Tablero", exact=True).click()
    expect(page.get_by_test_id("dash-cards")).to_be_visible()
    # the dates shown are the range the server chose (its clock, not the browser's)
    clock = api_call(webapp, "GET", "/sim/clock")
    assert page.get_by_label("Hasta").input_value() == clock["now"][:10]
    page.get_by_role("combobox", name=re.compile("^Flujo")).select_option(str(flow_id))
    with page.expect_request(re.compile(rf"/api/v1/dashboard\?from=.*&flow_id={flow_id}")):
        page.get_by_role("button", name="Aplicar").click()
    expect(page.get_by_test_id("dash-funnel").locator("canvas")).to_have_attribute(
        "aria-label", re.compile("Pregunta: 2, Interesado: 1"))
    expect(page.locator("figure", has_text="Mensajes por flujo y canal").locator("canvas")
           ).to_be_visible()
    assert untranslated(page, "es") == []
    violations = axe_violations(page, axe_source)
    assert violations == [], describe(violations)
    page.screenshot(path=screenshots / "dashboard-es.png")
