"""Pipelines as a kanban board and the tickets screen, in both languages, accessible."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import WebApp
from tests.browser.helpers import (
    api_call as _api,
)
from tests.browser.helpers import (
    axe_violations,
    describe,
    sign_in_with_key,
    untranslated,
    use_language,
)


def test_kanban_drag_moves_the_opportunity(
    page: Page, webapp: WebApp, screenshots: Path, axe_source: str
) -> None:
    contact = _api(webapp, "POST", "/contacts", json={"name": "Kanban Ana",
                                                       "phone": "+54 9 11 5555-0303"})
    pipeline = _api(webapp, "POST", "/pipelines", json={
        "name": "Ventas tablero", "stages": ["Nuevo", "Propuesta", "Ganado"]})
    opp = _api(webapp, "POST", "/opportunities", json={
        "contact_id": contact["id"], "pipeline": pipeline["id"], "name": "Plan pro",
        "value": 1200, "currency": "ARS"})
    use_language(page, "es")
    sign_in_with_key(page, webapp.demo.api_key)
    page.get_by_role("link", name="Embudos", exact=True).click()
    page.get_by_test_id("pipeline-pick").select_option(str(pipeline["id"]))
    card = page.get_by_test_id(f"opp-{opp['id']}")
    expect(page.get_by_test_id("stage-Nuevo")).to_contain_text("Plan pro")
    card.drag_to(page.get_by_test_id("stage-Propuesta"))
    expect(page.get_by_test_id("stage-Propuesta")).to_contain_text("Plan pro")
    expect(page.get_by_role("status")).to_contain_text("Plan pro pasó a Propuesta")
    assert _api(webapp, "GET", f"/opportunities/{opp['id']}")["stage"] == "Propuesta"
    assert untranslated(page, "es") == []
    violations = axe_violations(page, axe_source)
    assert violations == [], describe(violations)
    page.screenshot(path=screenshots / "pipelines-es.png")
    # Without a mouse: the stage select on the card.
    page.get_by_label("Idioma").select_option("en")
    page.get_by_label("Stage of Plan pro").select_option(label="Ganado")
    expect(page.get_by_test_id("stage-Ganado")).to_contain_text("Plan pro")
    assert untranslated(page, "en") == []
    history = _api(webapp, "GET", f"/opportunities/{opp['id']}/history")["items"]
    assert len(history) >= 2


def test_tickets_filter_detail_and_status_change(
    page: Page, webapp: WebApp, screenshots: Path, axe_source: str
) -> None:
    _api(webapp, "POST", "/tickets", json={"subject": "Reclamo por envío", "priority": "high"})
    _api(webapp, "POST", "/tickets", json={"subject": "Consulta de factura", "priority": "low"})
    use_language(page, "en")
    sign_in_with_key(page, webapp.demo.api_key)
    page.get_by_role("link", name="Tickets", exact=True).click()
    table = page.get_by_test_id("tickets")
    expect(table).to_contain_text("Reclamo por envío")
    page.get_by_role("search").get_by_label(re.compile("^Priority")).select_option("high")
    expect(table).not_to_contain_text("Consulta de factura")
    table.get_by_role("button", name="Reclamo por envío").click()
    detail = page.get_by_test_id("ticket-detail")
    detail.get_by_label(re.compile("^Status")).select_option("solved")
    expect(page.get_by_role("status")).to_contain_text("Ticket updated.")
    me = _api(webapp, "GET", "/users")["items"][0]
    detail.get_by_label(re.compile("^Assignee")).select_option(str(me["id"]))
    expect(table).to_contain_text(me["name"] or me["email"])
    violations = axe_violations(page, axe_source)
    assert violations == [], describe(violations)
    assert untranslated(page, "en") == []
    page.get_by_label("Language").select_option("es")
    expect(table).to_contain_text("resuelto")
    assert untranslated(page, "es") == []
    page.screenshot(path=screenshots / "tickets-es.png")
    page.get_by_role("search").get_by_label(re.compile("^Estado")).select_option("open")
    expect(table.get_by_role("button", name="Reclamo por envío")).to_have_count(0)
