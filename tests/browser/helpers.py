"""What several browser tests do: sign in, check accessibility, collect visible text, build a
flow on the editor's canvas."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from playwright.sync_api import Locator, Page, expect

I18N = Path(__file__).resolve().parents[2] / "web" / "src" / "i18n"
SETTLE_SECONDS = 20
T = TypeVar("T")


def dictionaries() -> dict[str, dict[str, str]]:
    return {lang: json.loads((I18N / f"{lang}.json").read_text()) for lang in ("en", "es")}


def use_language(page: Page, lang: str) -> None:
    """Start the app in ``lang`` (as if the browser asked for it) on the next load."""
    page.add_init_script(
        "if (!localStorage.getItem('cauce.lang')) "
        f"localStorage.setItem('cauce.lang', {json.dumps(lang)})"
    )


def sign_in_with_key(page: Page, api_key: str) -> None:
    page.goto("/")
    page.get_by_test_id("api-key").fill(api_key)
    page.get_by_test_id("api-key").press("Enter")
    expect(page.get_by_test_id("workspace-name")).to_be_visible()


def sign_in_with_password(page: Page, email: str, password: str) -> None:
    """Sign in as a person (an agent's inbox view "mine" needs a user, not an API key)."""
    page.goto("/")
    page.locator("input[autocomplete=username]").fill(email)
    page.locator("input[autocomplete=current-password]").fill(password)
    page.locator("input[autocomplete=current-password]").press("Enter")
    expect(page.get_by_test_id("workspace-name")).to_be_visible()


def open_simulator(page: Page, phone: str, name: str = "") -> Locator:
    """Open the editor's simulator and create (and use) a test contact, in the page's
    language; returns the simulator panel."""
    words = dictionaries()[page.evaluate("document.documentElement.lang")]
    page.get_by_test_id("sim-toggle").click()
    sim = page.get_by_test_id("simulator")
    if name:
        sim.get_by_label(words["sim.newName"]).fill(name)
    sim.get_by_label(words["sim.newPhone"]).fill(phone)
    sim.get_by_role("button", name=words["sim.create"]).click()
    return sim


def drop_node(page: Page, node_type: str, x: int, y: int) -> None:
    """Drag a node type from the editor's palette onto the canvas at (x, y)."""
    page.get_by_test_id(f"palette-{node_type}").drag_to(
        page.get_by_test_id("canvas"), target_position={"x": x, "y": y})


def connect_exit(page: Page, source: str, exit_name: str, target: str) -> None:
    """Drag from the handle of ``source``'s (unwired) exit to ``target``'s inlet; the new
    edge must be drawn."""
    edges = page.locator(".react-flow__edge")
    before = edges.count()
    handle = page.get_by_test_id(f"handle-{source}-{exit_name}")
    inlet = page.get_by_test_id(f"node-{target}").locator(".react-flow__handle-left")
    box_a, box_b = handle.bounding_box(), inlet.bounding_box()
    assert box_a and box_b
    page.mouse.move(box_a["x"] + box_a["width"] / 2, box_a["y"] + box_a["height"] / 2)
    page.mouse.down()
    page.mouse.move(box_b["x"] + box_b["width"] / 2, box_b["y"] + box_b["height"] / 2, steps=8)
    page.mouse.up()
    expect(edges).to_have_count(before + 1)


def axe_violations(page: Page, axe_source: str) -> list[dict[str, Any]]:
    """Serious and critical axe-core violations on the current page."""
    page.evaluate(axe_source)
    result: dict[str, Any] = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]


def describe(violations: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(n["target"][0] if n["target"] else "?" for n in v["nodes"][:5])
        for v in violations
    )


def untranslated(page: Page, lang: str) -> list[str]:
    """UI strings of the other language visible on the page (strings equal in both are fine)."""
    dicts = dictionaries()
    other = "en" if lang == "es" else "es"
    # A string whose only fixed text is a short word between placeholders ("{status} en
    # {node}") would match any sentence with that word, such as an agent's note.
    foreign = [
        _pattern(value) for key, value in dicts[other].items()
        if value != dicts[lang].get(key) and len(re.sub(r"\{\w+\}", "", value).strip()) > 2
    ]
    own = [_pattern(value) for value in dicts[lang].values()]
    texts: list[str] = page.evaluate(
        """() => {
          const out = []
          const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT)
          while (walker.nextNode()) {
            const text = walker.currentNode.textContent.trim()
            if (text) out.push(text)
          }
          for (const el of document.querySelectorAll('[aria-label],[title],[placeholder]')) {
            for (const attr of ['aria-label', 'title', 'placeholder']) {
              const v = el.getAttribute(attr)
              if (v) out.push(v.trim())
            }
          }
          return out
        }"""
    )
    return sorted({
        t for t in texts
        if any(p.fullmatch(t) for p in foreign) and not any(p.fullmatch(t) for p in own)
    })


def _pattern(template: str) -> re.Pattern[str]:
    """A dictionary string as a pattern: ``{name}`` placeholders match any text."""
    parts = re.split(r"\{\w+\}", template)
    return re.compile(".+?".join(re.escape(part) for part in parts), re.DOTALL)


def api_call(webapp: Any, method: str, path: str, **kwargs: Any) -> Any:
    """Call the test server's REST API with the demo key; fail the test on a non-2xx answer."""
    import httpx

    answer = httpx.request(method, f"{webapp.base_url}/api/v1{path}", headers={
        "Authorization": f"Bearer {webapp.demo.api_key}"}, **kwargs)
    assert answer.status_code < 300, answer.text
    return answer.json() if answer.content else None


def advance_clock(webapp: Any, seconds: float) -> None:
    """Move the server's virtual clock (0 makes the runtime take pending inputs now)."""
    api_call(webapp, "POST", "/sim/clock/advance", json={"seconds": seconds})


def settle(webapp: Any, what: Callable[[], T], message: str) -> T:
    """Let the embedded runtime work (it runs in the server's threads) until ``what()`` is
    truthy; fail after SETTLE_SECONDS saying what was awaited."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        advance_clock(webapp, 0)
        value = what()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {message}")
        time.sleep(0.05)
