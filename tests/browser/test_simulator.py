"""The simulator beside the editor: chat with buttons, contact fields, triggers, time travel,
the active node on the canvas and the run's event log."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import WebApp
from tests.browser.helpers import (
    api_call,
    axe_violations,
    describe,
    open_simulator,
    sign_in_with_key,
    untranslated,
    use_language,
)

FLOW = {
    "format": 1,
    "metadata": {"name": "Seguimiento semanal"},
    "triggers": [{"type": "inbound_message", "match": "keyword", "keywords": ["hola"]}],
    "nodes": [
        {
            "id": "ask",
            "type": "whatsapp_buttons",
            "config": {
                "body": "¿Te interesa la demo?",
                "buttons": [{"id": "si", "title": "Sí"}, {"id": "no", "title": "No"}],
                "timeout": "2d",
            },
            "exits": {
                "si": "wait7",
                "no": "bye",
                "replied": "bye",
                "timeout": "end",
                "failed": "end",
            },
        },
        {"id": "wait7", "type": "delay", "config": {"duration": "7d"}, "exits": {"next": "later"}},
        {
            "id": "later",
            "type": "add_tag",
            "config": {"tags": ["una-semana"]},
            "exits": {"next": "end"},
        },
        {
            "id": "bye",
            "type": "whatsapp_text",
            "config": {"text": "¡Hasta luego!"},
            "exits": {"next": "end", "failed": "end"},
        },
        {"id": "end", "type": "end", "config": {}, "exits": {}},
    ],
}


def test_simulator_buttons_time_travel_and_event_log(
    page: Page, webapp: WebApp, screenshots: Path, axe_source: str
) -> None:
    flow = api_call(webapp, "POST", "/flows", json={"document": FLOW})
    api_call(webapp, "POST", f"/flows/{flow['id']}/publish", json={})
    api_call(webapp, "POST", "/contact-fields",
             json={"key": "plan", "type": "text", "label": "Plan"})
    use_language(page, "es")
    sign_in_with_key(page, webapp.demo.api_key)
    page.goto(f"/#/flows/{flow['id']}")
    sim = open_simulator(page, "+54 9 11 5555-0101", "Sofía Test")
    expect(sim.get_by_test_id("sim-no-run")).to_be_visible()

    sim.get_by_text("Campos del contacto").click()
    sim.get_by_test_id("sim-field-key").select_option("plan")
    sim.get_by_label("Valor", exact=True).fill("pro")
    sim.get_by_role("button", name="Guardar campo").click()
    expect(sim.get_by_test_id("sim-fields")).to_contain_text('"pro"')

    sim.get_by_label("Mensaje del contacto").fill("hola")
    sim.get_by_role("button", name="Enviar", exact=True).click()
    chat = sim.get_by_test_id("sim-chat")
    expect(chat).to_contain_text("¿Te interesa la demo?", timeout=15000)
    expect(page.get_by_test_id("node-ask")).to_have_attribute("data-active", "true", timeout=10000)
    sim.get_by_test_id("sim-choice-si").click()
    expect(page.get_by_test_id("node-wait7")).to_have_attribute(
        "data-active", "true", timeout=15000
    )
    foreign = untranslated(page, "es")
    assert foreign == [], page.evaluate(
        "(w) => [...document.querySelectorAll('body *')].filter(e => e.children.length === 0 "
        "&& e.textContent.trim() === w).map(e => e.outerHTML + ' in ' + e.parentElement.outerHTML)"
        ".slice(0, 3)", foreign[0] if foreign else "")
    violations = axe_violations(page, axe_source)
    assert violations == [], describe(violations)
    page.screenshot(path=screenshots / "simulator-es.png")

    sim.get_by_test_id("sim-7d").click()
    expect(sim.get_by_test_id("sim-run")).to_contain_text("completada", timeout=20000)
    log = sim.get_by_test_id("sim-log")
    expect(log.locator("li")).to_have_count(3, timeout=15000)
    expect(log).to_contain_text("temporizador")
    page.get_by_label("Idioma").select_option("en")
    expect(sim.get_by_role("heading", name="Simulator")).to_be_visible()
    assert untranslated(page, "en") == []
    page.screenshot(path=screenshots / "simulator-en.png")


def test_simulator_fires_an_event_and_an_ad_click(page: Page, webapp: WebApp) -> None:
    doc = {
        "format": 1,
        "metadata": {"name": "Prueba de disparadores"},
        "triggers": [
            {"type": "business_event", "event": "cart.abandoned"},
            {"type": "ad_referral"},
        ],
        "nodes": [
            {
                "id": "tag",
                "type": "add_tag",
                "config": {"tags": ["disparado"]},
                "exits": {"next": "end"},
            },
            {"id": "end", "type": "end", "config": {}, "exits": {}},
        ],
    }
    flow = api_call(webapp, "POST", "/flows", json={"document": doc})
    api_call(webapp, "POST", f"/flows/{flow['id']}/publish", json={})
    use_language(page, "en")
    sign_in_with_key(page, webapp.demo.api_key)
    page.goto(f"/#/flows/{flow['id']}")
    sim = open_simulator(page, "+54 9 11 5555-0202")
    sim.get_by_text("Simulate a trigger").click()
    sim.get_by_label("Event name").fill("cart.abandoned")
    sim.get_by_label("Event data (JSON)").fill('{"total": 100}')
    sim.get_by_role("button", name="Send event").click()
    expect(sim.get_by_test_id("sim-run")).to_contain_text("completed", timeout=15000)
    expect(sim.get_by_test_id("sim-log")).to_contain_text("event")
    sim.get_by_role("button", name="Click the ad").click()
    expect(sim.get_by_test_id("sim-chat").locator("li.bubble.in")).to_have_count(1, timeout=10000)

    contacts = api_call(webapp, "GET", "/contacts", params={"q": "+5491155550202"})
    contact_id = contacts["items"][0]["id"]
    pipeline = api_call(
        webapp, "POST", "/pipelines", json={"name": "Sim", "stages": ["Nuevo", "Ganado"]}
    )
    opp = api_call(
        webapp,
        "POST",
        "/opportunities",
        json={"contact_id": contact_id, "pipeline": pipeline["id"], "name": "Plan anual"},
    )
    page.reload()
    page.get_by_test_id("sim-toggle").click()
    page.get_by_test_id("sim-contact").select_option(str(contact_id))
    sim.get_by_text("Simulate a trigger").click()
    sim.get_by_label("Stage of Plan anual").select_option(label="Ganado")
    expect(sim.get_by_label("Stage of Plan anual")).to_have_value(
        str(pipeline["stages"][1]["id"]), timeout=10000
    )
    assert api_call(webapp, "GET", f"/opportunities/{opp['id']}")["stage"] == "Ganado"
