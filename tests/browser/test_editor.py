"""The flow editor: build a flow by drag and drop, configure it, save, validate, publish."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import WebApp
from tests.browser.helpers import (
    api_call,
    axe_violations,
    connect_exit,
    describe,
    drop_node,
    sign_in_with_key,
    untranslated,
    use_language,
)


def test_build_a_flow_by_drag_and_drop_and_save_it(
    page: Page, webapp: WebApp, screenshots: Path, axe_source: str
) -> None:
    use_language(page, "en")
    sign_in_with_key(page, webapp.demo.api_key)
    page.get_by_role("link", name="Flows", exact=True).click()
    page.get_by_label("Name of the new flow").fill("Leads from WhatsApp")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_test_id("flow-name")).to_have_value("Leads from WhatsApp")
    flow_id = int(page.url.rsplit("/", 1)[1])

    drop_node(page, "whatsapp_buttons", 120, 120)
    drop_node(page, "add_tag", 520, 60)
    drop_node(page, "end", 520, 320)
    expect(page.get_by_test_id("node-whatsapp_buttons")).to_be_visible()
    page.screenshot(path=screenshots / "editor-dropped.png")
    connect_exit(page, "whatsapp_buttons", "buy", "add_tag")
    connect_exit(page, "add_tag", "next", "end")
    expect(page.get_by_test_id("save-status")).to_have_text("Draft saved", timeout=10_000)

    draft = api_call(webapp, "GET", f"/flows/{flow_id}")["draft"]
    nodes = {n["id"]: n for n in draft["nodes"]}
    assert set(nodes) == {"whatsapp_buttons", "add_tag", "end"}
    assert nodes["whatsapp_buttons"]["exits"]["buy"] == "add_tag"
    assert nodes["add_tag"]["exits"] == {"next": "end"}
    assert set(draft["layout"]) == set(nodes)
    page.screenshot(path=screenshots / "editor-en.png")


def test_exits_follow_the_config_undo_redo_and_publish_after_fixing_errors(
    page: Page, webapp: WebApp, screenshots: Path, axe_source: str
) -> None:
    use_language(page, "en")
    flow = api_call(webapp, "POST", "/flows", json={"document": {
        "format": 1, "metadata": {"name": "Menu"}, "nodes": []}})
    sign_in_with_key(page, webapp.demo.api_key)
    page.goto(f"/#/flows/{flow['id']}")
    drop_node(page, "whatsapp_buttons", 120, 120)
    drop_node(page, "end", 520, 200)
    connect_exit(page, "whatsapp_buttons", "buy", "end")
    page.get_by_test_id("node-whatsapp_buttons").click()
    inspector = page.get_by_test_id("inspector")
    expect(page.get_by_test_id("handle-whatsapp_buttons-support")).to_be_visible()

    # one exit per button: removing a button removes its handle (the server lists the exits)
    inspector.get_by_role("button", name="Remove: Buttons Item 3").click()
    expect(page.get_by_test_id("handle-whatsapp_buttons-support")).to_have_count(0)
    page.get_by_role("button", name="Undo").click()
    expect(page.get_by_test_id("handle-whatsapp_buttons-support")).to_be_visible()
    page.get_by_role("button", name="Redo").click()
    expect(page.get_by_test_id("handle-whatsapp_buttons-support")).to_have_count(0)
    # a button title over WhatsApp's 20 characters is an error shown on the node and the field
    inspector.get_by_label("Title *").first.fill("A title far too long for WhatsApp")
    expect(page.get_by_test_id("save-status")).to_have_text("Draft saved", timeout=10_000)
    expect(inspector.locator(".field-error").first).to_contain_text("20")
    expect(page.get_by_test_id("node-whatsapp_buttons").locator(".badge.error")).to_be_visible()
    expect(page.get_by_test_id("publish")).to_be_disabled()
    page.screenshot(path=screenshots / "editor-problems-en.png")
    inspector.get_by_label("Title *").first.fill("Comprar ahora")

    # without a trigger the first message may fall outside the 24-hour window: add one
    page.get_by_test_id("canvas").locator(".react-flow__pane").click(position={"x": 40, "y": 40})
    settings = page.get_by_test_id("flow-settings")
    settings.get_by_label("New trigger type").select_option("inbound_message")
    settings.get_by_role("button", name="Add trigger").click()
    expect(settings.get_by_role("group", name="Incoming message")).to_be_visible()
    expect(page.get_by_test_id("save-status")).to_have_text("Draft saved", timeout=10_000)
    page.screenshot(path=screenshots / "editor-settings-en.png")
    problems = api_call(webapp, "POST", f"/flows/{flow['id']}/validate")["problems"]
    assert [p for p in problems if p["severity"] == "error"] == [], api_call(
        webapp, "GET", f"/flows/{flow['id']}")["draft"]
    expect(page.get_by_test_id("problems").locator(".badge.error")).to_have_count(0)
    violations = axe_violations(page, axe_source)
    assert violations == [], describe(violations)
    page.get_by_test_id("publish").click()
    expect(page.get_by_test_id("editor-message")).to_have_text("Published version 1")
    versions = api_call(webapp, "GET", f"/flows/{flow['id']}/versions")
    assert [v["number"] for v in versions] == [1]
    document = api_call(webapp, "GET", f"/flows/{flow['id']}/versions/1")["document"]
    assert document["triggers"][0]["type"] == "inbound_message"
    buttons = document["nodes"][0]["config"]["buttons"]
    assert [b["title"] for b in buttons] == ["Comprar ahora", "Asesor comercial"]
    assert document["nodes"][0]["exits"]["buy"] == "end"
    # a second version with one more node: its diff summary, then roll back to v1
    drop_node(page, "add_tag", 300, 420)
    expect(page.get_by_test_id("save-status")).to_have_text("Draft saved", timeout=10_000)
    page.get_by_test_id("publish").click()
    expect(page.get_by_test_id("editor-message")).to_have_text("Published version 2")
    page.get_by_role("button", name="Changes in v2 since v1").click()
    expect(page.get_by_test_id("diff-2")).to_have_text("+1 nodes, −0, 0 changed")
    page.get_by_role("button", name="Publish version 1 again").click()
    expect(page.get_by_test_id("editor-message")).to_have_text("Published version 3")
    assert api_call(webapp, "GET", f"/flows/{flow['id']}")["published_version"] == 3

    page.get_by_label("Language").select_option("es")
    expect(page.get_by_role("button", name="Publicar", exact=True)).to_be_visible()
    assert untranslated(page, "es") == []
    page.get_by_test_id("node-whatsapp_buttons").click()
    expect(page.get_by_test_id("inspector")).to_contain_text("Botones de respuesta")
    assert untranslated(page, "es") == []
    violations = axe_violations(page, axe_source)
    assert violations == [], describe(violations)
    page.screenshot(path=screenshots / "editor-es.png")
