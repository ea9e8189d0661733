"""Login, the app shell and the language switch, in Debian's Chromium."""

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


def test_login_with_password_shows_the_shell(
    page: Page, webapp: WebApp, screenshots: Path, axe_source: str
) -> None:
    use_language(page, "es")
    page.goto("/")
    expect(page.get_by_role("heading", name="Entrar a Cauce")).to_be_visible()
    assert axe_violations(page, axe_source) == [], describe(axe_violations(page, axe_source))
    assert untranslated(page, "es") == []
    page.screenshot(path=screenshots / "login-es.png")
    page.get_by_label("Correo electrónico").fill(webapp.demo.email)
    page.get_by_label("Contraseña").fill("wrong password")
    page.get_by_role("button", name="Entrar", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("No se pudo entrar")
    page.get_by_label("Contraseña").fill(webapp.demo.password)
    page.get_by_role("button", name="Entrar", exact=True).click()
    expect(page.get_by_test_id("workspace-name")).to_have_text("Demo")
    expect(page.get_by_role("navigation", name="Navegación principal")).to_be_visible()
    # the cookie session survives a reload
    page.reload()
    expect(page.get_by_test_id("workspace-name")).to_have_text("Demo")
    page.get_by_role("button", name="Salir").click()
    expect(page.get_by_role("heading", name="Entrar a Cauce")).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="Entrar a Cauce")).to_be_visible()


def test_api_key_login_and_language_switch(
    page: Page, webapp: WebApp, screenshots: Path, axe_source: str
) -> None:
    use_language(page, "en")
    page.goto("/")
    page.get_by_test_id("api-key").fill("cau_not_a_key")
    page.get_by_role("button", name="Use this key").click()
    expect(page.get_by_role("alert")).to_contain_text("Sign-in failed")
    sign_in_with_key(page, webapp.demo.api_key)
    expect(page.get_by_role("link", name="Runs", exact=True)).to_be_visible()
    assert page.evaluate("document.documentElement.lang") == "en"
    assert untranslated(page, "en") == []
    page.get_by_label("Language").select_option("es")
    expect(page.get_by_role("link", name="Ejecuciones", exact=True)).to_be_visible()
    assert page.evaluate("document.documentElement.lang") == "es"
    assert untranslated(page, "es") == []
    page.screenshot(path=screenshots / "shell-es.png")
    # the choice is remembered
    page.reload()
    expect(page.get_by_label("Idioma")).to_have_value("es")


def test_browser_language_is_the_default(browser_type_launch_args: dict[str, object],
                                         playwright: object, webapp: WebApp) -> None:
    from playwright.sync_api import Playwright

    assert isinstance(playwright, Playwright)
    browser = playwright.chromium.launch(**browser_type_launch_args)  # type: ignore[arg-type]
    try:
        for locale, heading in (("es-AR", "Entrar a Cauce"), ("en-US", "Sign in to Cauce")):
            context = browser.new_context(locale=locale, base_url=webapp.base_url)
            page = context.new_page()
            page.goto("/")
            expect(page.get_by_role("heading", name=heading)).to_be_visible()
            context.close()
    finally:
        browser.close()
