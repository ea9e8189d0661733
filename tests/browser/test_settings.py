"""Settings: channels (create, send a test message), templates, contact rules, team, API keys."""

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


def test_settings_every_tab_in_both_languages(
    page: Page, webapp: WebApp, screenshots: Path, axe_source: str
) -> None:
    use_language(page, "en")
    sign_in_with_key(page, webapp.demo.api_key)
    page.get_by_role("link", name="Settings", exact=True).click()

    # Channels: a Slack channel, then its test message (the closed network makes it fail,
    # and the screen says why).
    panel = page.get_by_role("tabpanel")
    panel.get_by_label(re.compile("^Kind")).select_option("slack")
    panel.get_by_label("Name", exact=True).fill("Avisos")
    panel.get_by_label("Incoming webhook URL").fill("https://hooks.slack.invalid/services/T/B/x")
    panel.get_by_role("button", name="Create channel").click()
    expect(page.get_by_test_id("channels")).to_contain_text("Avisos")
    panel.get_by_role("button", name="Send test message with Avisos").click()
    panel.get_by_label("Send to").fill("#ventas")
    panel.get_by_role("button", name="Send", exact=True).click()
    expect(panel.get_by_role("alert").or_(panel.get_by_role("status"))).to_contain_text(
        re.compile("test message"), timeout=20000)
    assert untranslated(page, "en") == []
    violations = axe_violations(page, axe_source)
    assert violations == [], describe(violations)
    page.screenshot(path=screenshots / "settings-channels-en.png")

    page.get_by_role("tab", name="Templates").click()
    expect(page.get_by_test_id("no-wa")).to_be_visible()

    page.get_by_role("tab", name="Consent, frequency and hours").click()
    rules = page.get_by_test_id("settings-rules")
    rules.get_by_label("Per contact per day").fill("1")
    rules.get_by_label(re.compile("^Send business-initiated messages only")).check()
    rules.get_by_label("Sat").check()
    rules.get_by_label(re.compile("^Also wait out public holidays")).check()
    rules.get_by_role("button", name="Save rules").click()
    expect(rules.get_by_role("status")).to_have_text("Rules saved.")
    saved = _api(webapp, "GET", "/workspace/contact-rules")
    assert saved["marketing_per_day"] == 1
    assert saved["communication_window"]["weekdays"] == ["mon", "tue", "wed", "thu", "fri", "sat"]
    violations = axe_violations(page, axe_source)
    assert violations == [], describe(violations)
    page.screenshot(path=screenshots / "settings-rules-en.png")

    page.get_by_role("tab", name="Team and roles").click()
    panel.get_by_label("Email", exact=True).fill("lucia@example.com")
    panel.get_by_label("Name", exact=True).fill("Lucía")
    panel.get_by_label(re.compile("^Initial password")).fill("a-long-password-1")
    panel.get_by_role("button", name="Add member").click()
    expect(page.get_by_test_id("users")).to_contain_text("lucia@example.com")
    panel.get_by_label("Role of Lucía").select_option("editor")
    expect(panel.get_by_role("status")).to_contain_text("Lucía saved.")
    users = _api(webapp, "GET", "/users")["items"]
    assert [u["role"] for u in users if u["email"] == "lucia@example.com"] == ["editor"]

    page.get_by_role("tab", name="API keys").click()
    panel.get_by_label("Name", exact=True).fill("tienda")
    panel.get_by_role("button", name="Create key").click()
    expect(page.get_by_test_id("new-key")).to_contain_text("cau_")
    expect(page.get_by_test_id("apikeys")).to_contain_text("tienda")
    violations = axe_violations(page, axe_source)
    assert violations == [], describe(violations)

    page.get_by_label("Language").select_option("es")
    for tab in ("Canales", "Plantillas", "Consentimiento, frecuencia y horarios",
                "Equipo y roles", "Claves de API"):
        page.get_by_role("tab", name=tab).click()
        expect(page.get_by_role("tabpanel")).not_to_be_empty()
        assert untranslated(page, "es") == [], tab
    page.get_by_role("tab", name="Consentimiento, frecuencia y horarios").click()
    page.screenshot(path=screenshots / "settings-rules-es.png")
