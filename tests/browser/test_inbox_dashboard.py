"""Inbox and dashboard against a server without their routes (they land from other areas):
each screen says clearly that the server lacks them, in both languages, accessibly. The
screens' data mapping is unit-tested with Vitest (web/src/api/inbox.test.ts)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

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
