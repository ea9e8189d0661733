"""Liquid variables offered while typing in the editor's text fields."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from tests.browser.conftest import WebApp
from tests.browser.helpers import axe_violations, describe, sign_in_with_key, use_language

DOC = {
    "format": 1, "metadata": {"name": "Variables"},
    "triggers": [{"type": "business_event", "event": "order.delivered"}],
    "nodes": [
        {"id": "classify", "type": "ai_classify_intent", "config": {
            "intents": [{"name": "buy", "description": "quiere comprar"}], "save_as": "intent"},
         "exits": {"buy": "hello"}},
        {"id": "hello", "type": "whatsapp_text", "config": {"text": ""}, "exits": {}},
    ],
}


def test_typing_braces_offers_contact_results_and_trigger_variables(
    page: Page, webapp: WebApp, screenshots: Path, axe_source: str
) -> None:
    headers = {"Authorization": f"Bearer {webapp.demo.api_key}"}
    flow = httpx.post(f"{webapp.base_url}/api/v1/flows", headers=headers,
                      json={"document": DOC}).json()
    use_language(page, "en")
    sign_in_with_key(page, webapp.demo.api_key)
    page.goto(f"/#/flows/{flow['id']}")
    page.get_by_test_id("node-hello").click()
    field = page.get_by_test_id("inspector").get_by_role("combobox", name=re.compile("^Text"))
    field.click()
    field.press_sequentially("Hola {{ contact.fi")
    listbox = page.get_by_role("listbox", name="Variables")
    expect(listbox.get_by_role("option")).to_have_count(1)
    expect(listbox).to_contain_text("contact.first_name")
    field.press("Enter")
    expect(field).to_have_value("Hola {{ contact.first_name }}")
    field.press_sequentially(", {{ inten")
    expect(listbox.get_by_role("option").first).to_contain_text("results.intent")
    violations = axe_violations(page, axe_source)
    assert violations == [], describe(violations)
    page.screenshot(path=screenshots / "editor-liquid-en.png")
    listbox.get_by_role("option").first.click()
    expect(field).to_have_value("Hola {{ contact.first_name }}, {{ results.intent }}")
    field.press_sequentially(" {{ trigger.d")
    expect(listbox).to_contain_text("trigger.data")
    field.press("Escape")
    expect(listbox).to_be_hidden()
