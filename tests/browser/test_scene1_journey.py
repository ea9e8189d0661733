"""Scene 1 end to end, as a person does it, through the real server on SQLite: build the lead
flow of a click-to-WhatsApp ad from scratch by drag and drop, publish it, run it in the
simulator (ad click, a button tap, a 7-day jump), take the handed-off conversation in the
inbox, and watch the flow's funnel on the dashboard change. A screenshot of each screen is
written to test-screenshots/."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import WebApp
from tests.browser.helpers import (
    api_call,
    axe_violations,
    connect_exit,
    describe,
    drop_node,
    open_simulator,
    sign_in_with_password,
    untranslated,
    use_language,
)

SAVED = "Borrador guardado"
TEAM = "asesores-escena1"


def _inspect(page: Page, node_id: str) -> Locator:
    page.get_by_test_id(f"node-{node_id}").click()
    inspector = page.get_by_test_id("inspector")
    expect(inspector).to_contain_text(node_id)
    return inspector


def _funnel(page: Page, flow_name: str) -> Locator:
    """The dashboard filtered to one flow: its funnel figure."""
    page.get_by_role("link", name="Tablero", exact=True).click()
    expect(page.get_by_test_id("dash-cards")).to_be_visible(timeout=15_000)
    page.get_by_role("combobox", name=re.compile("^Flujo")).select_option(label=flow_name)
    page.get_by_role("button", name="Aplicar").click()
    return page.locator("figure", has_text=f"Embudo: {flow_name}")


def test_scene1_lead_flow_from_scratch_to_the_agent_and_the_dashboard(
    page: Page, webapp: WebApp, screenshots: Path, axe_source: str
) -> None:
    admin = next(u for u in api_call(webapp, "GET", "/users")["items"]
                 if u["email"] == webapp.demo.email)
    api_call(webapp, "POST", "/teams", json={"name": TEAM, "assignment": "round_robin",
                                             "member_ids": [admin["id"]]})
    use_language(page, "es")
    sign_in_with_password(page, webapp.demo.email, webapp.demo.password)

    # ---- the flow, from an empty canvas ---------------------------------------------------
    page.get_by_role("link", name="Flujos", exact=True).click()
    page.get_by_label("Nombre del nuevo flujo").fill("Leads del anuncio de WhatsApp")
    page.get_by_role("button", name="Crear", exact=True).click()
    expect(page.get_by_test_id("flow-name")).to_have_value("Leads del anuncio de WhatsApp")
    flow_id = int(page.url.rsplit("/", 1)[1])
    drop_node(page, "whatsapp_buttons", 10, 20)
    drop_node(page, "add_tag", 290, 10)
    drop_node(page, "add_tag", 290, 150)
    drop_node(page, "whatsapp_text", 290, 300)
    drop_node(page, "wait_for_reply", 540, 20)
    drop_node(page, "handoff", 540, 330)
    page.screenshot(path=screenshots / "scene1-editor-dropped-es.png")

    # the question: button ids that say what the lead wants; two buttons, no third
    inspector = _inspect(page, "whatsapp_buttons")
    inspector.get_by_label("Id *").nth(0).fill("comprar")
    inspector.get_by_label("Id *").nth(1).fill("asesor")
    inspector.get_by_role("button", name="Quitar: Botones Elemento 3").click()
    expect(page.get_by_test_id("handle-whatsapp_buttons-asesor")).to_be_visible()
    expect(page.get_by_test_id("handle-whatsapp_buttons-support")).to_have_count(0)
    # one interest tag per button
    for node_id, tag in (("add_tag", "interes-compra"), ("add_tag_2", "interes-asesor")):
        inspector = _inspect(page, node_id)
        inspector.get_by_role("button", name="Quitar: Etiquetas Elemento 2").click()
        inspector.get_by_role("group", name="Etiquetas: Elemento 1").locator("input").fill(tag)
    inspector = _inspect(page, "whatsapp_text")
    inspector.get_by_label(re.compile("^Texto")).fill(
        "¡Gracias! Un asesor te escribe en breve. ¿Querés dejarnos tu email?")
    # the reply wait: 7 days from the message, no keyword routes
    inspector = _inspect(page, "wait_for_reply")
    inspector.get_by_label(re.compile("^Tiempo límite")).fill("7d")
    inspector.get_by_label(re.compile("^Nodo del mensaje")).fill("")
    inspector.get_by_role("button", name="Quitar: Palabras clave Elemento 1").click()
    inspector = _inspect(page, "handoff")
    inspector.get_by_label(re.compile("^Equipo")).fill(TEAM)
    inspector.get_by_label(re.compile("^Nota")).fill("Lead del anuncio: quiere hablar con alguien")

    connect_exit(page, "whatsapp_buttons", "comprar", "add_tag")
    connect_exit(page, "whatsapp_buttons", "asesor", "add_tag_2")
    connect_exit(page, "add_tag", "next", "whatsapp_text")
    connect_exit(page, "add_tag_2", "next", "whatsapp_text")
    connect_exit(page, "whatsapp_text", "next", "wait_for_reply")
    connect_exit(page, "wait_for_reply", "replied", "handoff")
    connect_exit(page, "wait_for_reply", "timeout", "handoff")

    # the trigger: a click on a click-to-WhatsApp ad
    page.get_by_test_id("canvas").locator(".react-flow__pane").click(position={"x": 20, "y": 600})
    settings = page.get_by_test_id("flow-settings")
    settings.get_by_label("Tipo del nuevo disparador").select_option("ad_referral")
    settings.get_by_role("button", name="Agregar disparador").click()
    expect(page.get_by_test_id("save-status")).to_have_text(SAVED, timeout=15_000)
    expect(page.get_by_test_id("problems").locator(".badge.error")).to_have_count(0)
    assert untranslated(page, "es") == []
    violations = axe_violations(page, axe_source)
    assert violations == [], describe(violations)
    page.screenshot(path=screenshots / "scene1-editor-es.png")

    draft = api_call(webapp, "GET", f"/flows/{flow_id}")["draft"]
    assert [t["type"] for t in draft["triggers"]] == ["ad_referral"]
    wires = {(n["id"], exit_name): target for n in draft["nodes"]
             for exit_name, target in n["exits"].items() if target}
    assert wires == {
        ("whatsapp_buttons", "comprar"): "add_tag", ("whatsapp_buttons", "asesor"): "add_tag_2",
        ("add_tag", "next"): "whatsapp_text", ("add_tag_2", "next"): "whatsapp_text",
        ("whatsapp_text", "next"): "wait_for_reply",
        ("wait_for_reply", "replied"): "handoff", ("wait_for_reply", "timeout"): "handoff",
    }
    configs = {n["id"]: n["config"] for n in draft["nodes"]}
    assert [b["id"] for b in configs["whatsapp_buttons"]["buttons"]] == ["comprar", "asesor"]
    assert configs["add_tag"]["tags"] == ["interes-compra"]
    assert configs["add_tag_2"]["tags"] == ["interes-asesor"]
    assert configs["wait_for_reply"]["timeout"] == "7d"
    assert configs["handoff"]["team"] == TEAM and configs["handoff"]["priority"] == "high"

    page.get_by_test_id("publish").click()
    expect(page.get_by_test_id("editor-message")).to_have_text("Versión 1 publicada")

    # ---- the simulator: the ad click, a tap, a week later -------------------------------
    sim = open_simulator(page, "+54 9 11 5555-0131", "Marina Escena")
    expect(sim.get_by_test_id("sim-no-run")).to_be_visible()
    sim.get_by_text("Simular un disparador").click()
    sim.get_by_role("button", name="Hacer clic en el anuncio").click()
    chat = sim.get_by_test_id("sim-chat")
    expect(chat).to_contain_text("¿Qué te interesa?", timeout=15_000)
    sim.get_by_test_id("sim-choice-comprar").click()
    expect(chat).to_contain_text("Un asesor te escribe en breve", timeout=15_000)
    expect(page.get_by_test_id("node-wait_for_reply")).to_have_attribute(
        "data-active", "true", timeout=15_000)
    page.screenshot(path=screenshots / "scene1-simulator-es.png")
    contact_id = int(sim.get_by_test_id("sim-contact").input_value())
    contact = api_call(webapp, "GET", f"/contacts/{contact_id}")
    assert "interes-compra" in contact["tags"]

    # the dashboard before the week: every step up to the wait, nobody handed off yet
    funnel = _funnel(page, "Leads del anuncio de WhatsApp")
    expect(funnel.locator("canvas")).to_have_attribute(
        "aria-label", re.compile(r"wait_for_reply: 1, handoff: 0"))
    page.screenshot(path=screenshots / "scene1-dashboard-before-es.png")

    page.goto(f"/#/flows/{flow_id}")
    page.get_by_test_id("sim-toggle").click()
    sim.get_by_test_id("sim-contact").select_option(str(contact_id))
    sim.get_by_text("Adelantar el tiempo").click()
    sim.get_by_test_id("sim-7d").click()
    expect(page.get_by_test_id("node-handoff")).to_have_attribute(
        "data-active", "true", timeout=20_000)
    page.screenshot(path=screenshots / "scene1-simulator-7d-es.png")

    # ---- the inbox: the adviser has the conversation --------------------------------------
    page.get_by_role("link", name="Bandeja", exact=True).click()
    page.get_by_role("button", name=re.compile("Marina Escena")).click()
    conv = page.get_by_test_id("conversation")
    expect(conv).to_contain_text("Lead del anuncio: quiere hablar con alguien")
    expect(conv).to_contain_text("Un asesor te escribe en breve")
    assert untranslated(page, "es") == []
    violations = axe_violations(page, axe_source)
    assert violations == [], describe(violations)
    page.screenshot(path=screenshots / "scene1-inbox-es.png")

    # ---- the dashboard after the week: the handoff counted ---------------------------------
    funnel = _funnel(page, "Leads del anuncio de WhatsApp")
    expect(funnel.locator("canvas")).to_have_attribute(
        "aria-label", re.compile(r"wait_for_reply: 1, handoff: 1"))
    assert untranslated(page, "es") == []
    page.screenshot(path=screenshots / "scene1-dashboard-after-es.png")
