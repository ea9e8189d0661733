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


def _conversation(window_open: bool) -> dict[str, object]:
    return {
        "id": 5, "contact": {"id": 9, "name": "Lucía Gómez", "phone": "+5491100000000",
                             "email": None},
        "channel_id": 1, "status": "open", "assignee_id": None, "team_id": None,
        "priority": "high", "summary": "Quiere el plan anual y pregunta por cuotas.",
        "note": "Lead prioritario (buy)", "context": {"intent": "buy"}, "ticket_id": None,
        "run_id": None, "opened_at": "2026-03-02T10:00:00Z", "first_response_at": None,
        "closed_at": None, "resolution": None, "last_message_at": "2026-03-02T10:05:00Z",
        "window_open": window_open,
    }


def test_inbox_works_a_handed_off_conversation(
    page: Page, webapp: WebApp, screenshots: Path, axe_source: str
) -> None:
    """The inbox routes are stubbed in the browser with the contract's shapes (they are the
    inbox area's): the screen lists, opens, replies, takes and closes through them."""
    posted: list[tuple[str, object]] = []
    state = {"window_open": True}

    def conversations(route: Route) -> None:
        url = route.request.url
        if route.request.method == "POST":
            posted.append((url.rsplit("/", 1)[1], route.request.post_data_json))
            route.fulfill(json=_conversation(state["window_open"]))
        elif url.endswith("/transcript?limit=200"):
            route.fulfill(json={"next_cursor": None, "items": [
                {"kind": "message", "direction": "in", "text": "Hola, quiero el plan anual",
                 "author_id": None, "at": "2026-03-02T10:00:00Z", "status": "received"},
                {"kind": "note", "direction": None, "text": "Cliente recurrente",
                 "author_id": 1, "at": "2026-03-02T10:01:00Z", "status": None}]})
        elif "/inbox/conversations/5" in url:
            route.fulfill(json=_conversation(state["window_open"]))
        else:
            route.fulfill(json={"items": [_conversation(state["window_open"])],
                                "next_cursor": None})

    page.route("**/api/v1/inbox/conversations**", conversations)
    page.route("**/api/v1/teams?*", lambda r: r.fulfill(json={"items": [
        {"id": 2, "name": "ventas", "assignment": "round_robin", "member_ids": [1]}],
        "next_cursor": None}))
    use_language(page, "es")
    sign_in_with_key(page, webapp.demo.api_key)
    page.get_by_role("link", name="Bandeja", exact=True).click()
    page.get_by_role("button", name=re.compile("Lucía Gómez")).click()
    conv = page.get_by_test_id("conversation")
    expect(conv).to_contain_text("Quiere el plan anual")
    expect(conv).to_contain_text("Cliente recurrente")
    conv.get_by_label(re.compile("^Respuesta")).fill("¡Hola Lucía! Te paso las cuotas.")
    conv.get_by_role("button", name="Enviar", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Respuesta enviada.")
    assert posted[-1] == ("reply", {"text": "¡Hola Lucía! Te paso las cuotas."})
    conv.get_by_role("button", name="Tomarla").click()
    expect(page.get_by_role("status")).to_contain_text("La conversación es tuya.")
    assert posted[-1] == ("assign", {"assignee_id": None})
    assert untranslated(page, "es") == []
    violations = axe_violations(page, axe_source)
    assert violations == [], describe(violations)
    page.screenshot(path=screenshots / "inbox-es.png")

    state["window_open"] = False
    page.get_by_role("button", name=re.compile("Lucía Gómez")).click()
    expect(conv).to_contain_text("solo permite una plantilla")
    conv.get_by_label("Nombre de la plantilla").fill("seguimiento")
    conv.get_by_role("button", name="Enviar plantilla").click()
    expect(page.get_by_role("status")).to_contain_text("Respuesta enviada.")
    assert posted[-1] == ("reply", {"template": {"name": "seguimiento", "language": "es",
                                                 "variables": {}}})
    conv.get_by_label(re.compile("^Transferir a")).select_option(label="Equipo ventas")
    conv.get_by_role("button", name="Transferir", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("Conversación transferida.")
    assert posted[-1] == ("transfer", {"team_id": 2})
    conv.get_by_label(re.compile("^Resolución")).select_option("unresolved")
    conv.get_by_role("button", name="Cerrar y devolver al flujo").click()
    expect(page.get_by_role("status")).to_contain_text("Conversación cerrada")
    assert posted[-1] == ("close", {"resolution": "unresolved", "note": ""})
