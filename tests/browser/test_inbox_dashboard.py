"""Inbox and dashboard against a server without their routes (they land from other areas):
each screen says clearly that the server lacks them, in both languages, accessibly. The
screens' data mapping is unit-tested with Vitest (web/src/api/inbox.test.ts)."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import WebApp
from tests.browser.helpers import (
    axe_violations,
    describe,
    sign_in_with_key,
    untranslated,
    use_language,
)


def test_inbox_and_dashboard_explain_a_missing_api(
    page: Page, webapp: WebApp, screenshots: Path, axe_source: str
) -> None:
    routes = set(page.request.get(f"{webapp.base_url}/openapi.json").json()["paths"])
    use_language(page, "en")
    sign_in_with_key(page, webapp.demo.api_key)
    if "/api/v1/inbox/conversations" not in routes:
        page.get_by_role("link", name="Inbox", exact=True).click()
        expect(page.get_by_test_id("inbox-missing")).to_contain_text("answered 404")
        violations = axe_violations(page, axe_source)
        assert violations == [], describe(violations)
    if "/api/v1/dashboard" not in routes:
        page.get_by_role("link", name="Dashboard", exact=True).click()
        expect(page.get_by_test_id("dash-missing")).to_contain_text("answered 404")
        assert untranslated(page, "en") == []
        page.get_by_label("Language").select_option("es")
        expect(page.get_by_test_id("dash-missing")).to_contain_text("respondió 404")
        assert untranslated(page, "es") == []
        page.screenshot(path=screenshots / "dashboard-missing-es.png")


DASHBOARD = {
    "cards": {"conversion_rate": 0.125, "conversions": 25, "hours_saved_month": 42.5, "nps": 61,
              "csat": 4.6},
    "funnel": [{"flow_id": 1, "nodes": [
        {"node_id": "ask", "label": "Pregunta", "entered": 200},
        {"node_id": "wait7", "label": "Espera 7 días", "entered": 120},
        {"node_id": "advisor", "label": "Asesor", "entered": 25}]}],
    "handling_time": {"avg_first_response_s": 95, "avg_resolution_s": 3900, "series": [
        {"date": "2026-03-01", "avg_first_response_s": 80, "avg_resolution_s": 3600},
        {"date": "2026-03-02", "avg_first_response_s": 110, "avg_resolution_s": 4200}]},
    "messages": [{"flow_id": 1, "channel": "whatsapp", "count": 340},
                 {"flow_id": 1, "channel": "email", "count": 20}],
    "delivery": {"sent": 360, "delivered": 330, "read": 250, "failed": 12,
                 "delivery_rate": 0.9167, "read_rate": 0.6944},
    "cost": {"per_conversation": 0.034, "per_flow": [{"flow_id": 1, "amount": 6.8}],
             "currency": "USD"},
    "revenue": [{"flow_id": 1, "amount": 1250.0, "currency": "USD"}],
    "errors": [{"code": "131047", "count": 9, "reason": "Re-engagement message",
                "recommendation": "Use a template outside the 24-hour window."}],
}


def test_dashboard_draws_the_contract_data(
    page: Page, webapp: WebApp, screenshots: Path, axe_source: str
) -> None:
    """The dashboard's answer is stubbed in the browser (its route is another area's), so this
    checks the drawing, not the numbers."""
    seen: list[str] = []

    def answer(route: Route) -> None:
        seen.append(route.request.url)
        route.fulfill(json=DASHBOARD)

    page.route("**/api/v1/dashboard?*", answer)
    use_language(page, "es")
    sign_in_with_key(page, webapp.demo.api_key)
    page.get_by_role("link", name="Tablero", exact=True).click()
    expect(page.get_by_test_id("dash-cards")).to_contain_text("12,5 %")
    expect(page.get_by_test_id("dash-funnel").locator("canvas")).to_have_attribute(
        "aria-label", re.compile("Pregunta: 200"))
    expect(page.get_by_test_id("dash-errors")).to_contain_text("plantilla aprobada")
    assert page.locator(".charts canvas").count() == 5
    assert untranslated(page, "es") == []
    violations = axe_violations(page, axe_source)
    assert violations == [], describe(violations)
    page.screenshot(path=screenshots / "dashboard-es.png")
    page.get_by_label("Desde").fill("2026-03-01")
    with page.expect_request(re.compile(r"/api/v1/dashboard\?from=2026-03-01T00%3A00%3A00Z")):
        page.get_by_role("button", name="Aplicar").click()
    assert seen
