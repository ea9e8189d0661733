"""The runs screen, against the real runs API."""

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


def test_runs_screen_filters_and_is_accessible_in_both_languages(
    page: Page, webapp: WebApp, screenshots: Path, axe_source: str
) -> None:
    use_language(page, "en")
    sign_in_with_key(page, webapp.demo.api_key)
    page.get_by_role("link", name="Runs", exact=True).click()
    expect(page.get_by_role("heading", name="Runs")).to_be_visible()
    # The server is shared with the simulator tests, whose runs may already be listed.
    listed = page.get_by_test_id("no-runs").or_(page.get_by_test_id("runs"))
    expect(listed).to_be_visible()
    page.get_by_label("Status").select_option("failed")
    expect(listed).to_be_visible()
    page.get_by_label("Flow").fill("7")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(f"{webapp.base_url}/#/runs?flow=7")
    violations = axe_violations(page, axe_source)
    assert violations == [], describe(violations)
    assert untranslated(page, "en") == []
    page.get_by_label("Language").select_option("es")
    expect(page.get_by_role("heading", name="Ejecuciones")).to_be_visible()
    assert untranslated(page, "es") == []
    page.screenshot(path=screenshots / "runs-es.png")
