"""The flow editor: build a flow by drag and drop, configure it, save, validate, publish."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


def _api(webapp: WebApp, method: str, path: str, **kwargs: Any) -> Any:
    answer = httpx.request(method, f"{webapp.base_url}/api/v1{path}", headers={
        "Authorization": f"Bearer {webapp.demo.api_key}"}, **kwargs)
    assert answer.status_code < 300, answer.text
    return answer.json()


def _drop(page: Page, node_type: str, x: int, y: int) -> None:
    page.get_by_test_id(f"palette-{node_type}").drag_to(
        page.get_by_test_id("canvas"), target_position={"x": x, "y": y})


def _connect(page: Page, source: str, exit_name: str, target: str) -> None:
    handle = page.get_by_test_id(f"handle-{source}-{exit_name}")
    inlet = page.get_by_test_id(f"node-{target}").locator(".react-flow__handle-left")
    box_a, box_b = handle.bounding_box(), inlet.bounding_box()
    assert box_a and box_b
    page.mouse.move(box_a["x"] + box_a["width"] / 2, box_a["y"] + box_a["height"] / 2)
    page.mouse.down()
    page.mouse.move(box_b["x"] + box_b["width"] / 2, box_b["y"] + box_b["height"] / 2, steps=8)
    page.mouse.up()


def test_build_a_flow_by_drag_and_drop_and_save_it(
    page: Page, webapp: WebApp, screenshots: Path, axe_source: str
) -> None:
    use_language(page, "en")
    sign_in_with_key(page, webapp.demo.api_key)
    page.get_by_role("link", name="Flows", exact=True).click()
    page.get_by_label("Name of the new flow").fill("Leads from WhatsApp")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_test_id("flow-name")).to_have_value("Leads from WhatsApp")
    flow_id = int(page.url.rsplit("/", 1)[1])

    _drop(page, "whatsapp_buttons", 120, 120)
    _drop(page, "add_tag", 520, 60)
    _drop(page, "end", 520, 320)
    expect(page.get_by_test_id("node-whatsapp_buttons")).to_be_visible()
    page.screenshot(path=screenshots / "editor-dropped.png")
    _connect(page, "whatsapp_buttons", "buy", "add_tag")
    _connect(page, "add_tag", "next", "end")
    expect(page.get_by_test_id("save-status")).to_have_text("Draft saved", timeout=10_000)

    draft = _api(webapp, "GET", f"/flows/{flow_id}")["draft"]
    nodes = {n["id"]: n for n in draft["nodes"]}
    assert set(nodes) == {"whatsapp_buttons", "add_tag", "end"}
    assert nodes["whatsapp_buttons"]["exits"]["buy"] == "add_tag"
    assert nodes["add_tag"]["exits"] == {"next": "end"}
    assert set(draft["layout"]) == set(nodes)
    page.screenshot(path=screenshots / "editor-en.png")
