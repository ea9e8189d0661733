"""Every screen of the navigation, in Spanish and English: no string of the other language,
no serious accessibility violation, a screenshot of each."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import WebApp
from tests.browser.helpers import (
    axe_violations,
    describe,
    sign_in_with_key,
    untranslated,
    use_language,
)


@pytest.mark.parametrize("lang", ["es", "en"])
def test_walk_every_screen(
    page: Page, webapp: WebApp, screenshots: Path, axe_source: str, lang: str
) -> None:
    use_language(page, lang)
    sign_in_with_key(page, webapp.demo.api_key)
    nav = page.get_by_role("navigation")
    links = nav.get_by_role("link")
    names = [links.nth(i).inner_text() for i in range(links.count())]
    assert len(names) >= 8, names
    problems: dict[str, object] = {}
    for name in names:
        nav.get_by_role("link", name=name, exact=True).click()
        expect(page.locator("main h1")).to_be_visible()
        expect(page.locator("[aria-busy='true']")).to_have_count(0, timeout=10000)
        # Signed in with an API key (no person): no screen may fail, e.g. by asking the
        # inbox for "my" conversations.
        errors = page.locator("[role='alert'].error").all_inner_texts()
        if errors:
            problems[f"{name}: error shown"] = errors
        foreign = untranslated(page, lang)
        if foreign:
            problems[f"{name}: untranslated"] = foreign
        violations = axe_violations(page, axe_source)
        if violations:
            problems[f"{name}: axe"] = describe(violations)
        slug = page.url.split("#/")[-1].split("?")[0].replace("/", "-") or "home"
        page.screenshot(path=screenshots / f"walk-{slug}-{lang}.png")
    assert problems == {}
