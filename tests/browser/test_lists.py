"""The flow list and contacts screens: real data, both languages, accessible."""

from __future__ import annotations

from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from tests.browser.conftest import WebApp
from tests.browser.helpers import (
    axe_violations,
    describe,
    sign_in_with_key,
    untranslated,
    use_language,
)


def test_flow_list_shows_status_and_version(
    page: Page, webapp: WebApp, screenshots: Path, axe_source: str
) -> None:
    headers = {"Authorization": f"Bearer {webapp.demo.api_key}"}
    created = httpx.post(f"{webapp.base_url}/api/v1/flows", headers=headers, json={
        "document": {"format": 1, "metadata": {"name": "Carrito abandonado"}, "nodes": []}})
    assert created.status_code == 201, created.text
    use_language(page, "es")
    sign_in_with_key(page, webapp.demo.api_key)
    page.get_by_role("link", name="Flujos", exact=True).click()
    row = page.get_by_role("row").filter(has_text="Carrito abandonado")
    expect(row).to_contain_text("Borrador")
    assert untranslated(page, "es") == []
    violations = axe_violations(page, axe_source)
    assert violations == [], describe(violations)
    page.screenshot(path=screenshots / "flows-es.png")
    page.get_by_label("Idioma").select_option("en")
    expect(row).to_contain_text("Draft")
    assert untranslated(page, "en") == []
    row.get_by_role("link", name="Carrito abandonado").click()
    expect(page.get_by_test_id("flow-name")).to_have_value("Carrito abandonado")


def test_contacts_search_and_add(
    page: Page, webapp: WebApp, screenshots: Path, axe_source: str
) -> None:
    use_language(page, "en")
    sign_in_with_key(page, webapp.demo.api_key)
    page.get_by_role("link", name="Contacts", exact=True).click()
    page.get_by_text("New contact").click()
    page.get_by_label("Name", exact=True).fill("Ana Pérez")
    page.get_by_label("Phone", exact=True).fill("+54 9 11 2233-4455")
    page.get_by_role("button", name="Add contact").click()
    expect(page.get_by_test_id("contacts")).to_contain_text("Ana Pérez")
    page.get_by_label("Search (name, phone, email, id)").fill("nobody-like-this")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.get_by_test_id("no-contacts")).to_be_visible()
    page.get_by_label("Search (name, phone, email, id)").fill("Ana")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.get_by_test_id("contacts")).to_contain_text("Ana Pérez")
    violations = axe_violations(page, axe_source)
    assert violations == [], describe(violations)
    assert untranslated(page, "en") == []
    page.get_by_label("Language").select_option("es")
    expect(page.get_by_role("heading", name="Contactos")).to_be_visible()
    assert untranslated(page, "es") == []
    page.screenshot(path=screenshots / "contacts-es.png")


def test_create_a_flow_from_a_playbook_template(
    page: Page, webapp: WebApp, screenshots: Path, axe_source: str
) -> None:
    headers = {"Authorization": f"Bearer {webapp.demo.api_key}"}
    use_language(page, "es")
    sign_in_with_key(page, webapp.demo.api_key)
    page.get_by_role("link", name="Flujos", exact=True).click()
    page.get_by_role("button", name="Desde una plantilla").click()
    gallery = page.get_by_role("region", name="Biblioteca de playbooks")
    # The whole library: seven playbooks, three scenes and the reactivation workflow.
    expect(gallery.get_by_role("listitem")).to_have_count(11)
    expect(page.get_by_test_id("template-cart_recovery")).to_contain_text("Tasa de recuperación")
    assert untranslated(page, "es") == []
    violations = axe_violations(page, axe_source)
    assert violations == [], describe(violations)
    page.screenshot(path=screenshots / "templates-es.png")

    page.get_by_role("button", name="Usar esta plantilla: 2) Recuperación de carrito").click()
    form = page.get_by_test_id("template-form")
    form.get_by_label("Nombre del flujo").fill("Carritos de la tienda")
    form.get_by_text("Más opciones").click()
    follow_up = form.get_by_test_id("param-follow_up_after")
    expect(follow_up).to_have_value("25h")  # the template's default, shown to be changed
    follow_up.fill("mañana")
    form.get_by_role("button", name="Crear flujo").click()
    # The server's 422 names the parameter: the message is shown and the field marked.
    expect(form.get_by_role("alert")).to_contain_text("is not a duration")
    expect(follow_up).to_have_attribute("aria-invalid", "true")
    violations = axe_violations(page, axe_source)
    assert violations == [], describe(violations)
    page.screenshot(path=screenshots / "template-form-es.png")
    listed = httpx.get(f"{webapp.base_url}/api/v1/flows", headers=headers).json()
    assert "Carritos de la tienda" not in [f["name"] for f in listed]  # nothing half-made

    follow_up.fill("12h")
    form.get_by_role("button", name="Crear flujo").click()
    expect(page.get_by_test_id("flow-name")).to_have_value("Carritos de la tienda")
    (flow,) = [f for f in httpx.get(f"{webapp.base_url}/api/v1/flows", headers=headers).json()
               if f["name"] == "Carritos de la tienda"]
    assert flow["template_id"] == "cart_recovery" and flow["published_version"] == 1
    version = httpx.get(f"{webapp.base_url}/api/v1/flows/{flow['id']}/versions/1",
                        headers=headers).json()["document"]
    (wait,) = [n for n in version["nodes"] if n["id"] == "await"]
    assert wait["config"]["timeout"]["seconds"] == 12 * 3600
    # Messages in Spanish (the flow's language followed the UI's).
    assert any("carrito" in str(n["config"]).lower() for n in version["nodes"])

    page.get_by_role("link", name="Flujos", exact=True).click()
    row = page.get_by_role("row").filter(has_text="Carritos de la tienda")
    expect(row).to_contain_text("Publicado")
    expect(page.get_by_test_id(f"runs-active-{flow['id']}")).to_have_text("0")
    expect(page.get_by_test_id(f"conversion-{flow['id']}")).to_have_text("—")
