"""The failed deliveries screen (dead letters), against the real API and runtime.

A shop's "order shipped" event reaches a contact known only by e-mail; the flow's WhatsApp
message has no number to go to, so the embedded runtime's delivery gives up on it for good and
the outbox row is dead with that reason. Once someone adds the contact's phone, Retry queues it
again and the runtime delivers it (as its fallback template: the contact never wrote).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from cauce.store.models import OutboxItem
from tests.browser.conftest import WebApp
from tests.browser.helpers import (
    api_call,
    axe_violations,
    describe,
    settle,
    sign_in_with_key,
    untranslated,
    use_language,
)

SHIPPED_FLOW = {
    "format": 1,
    "metadata": {"name": "Aviso de despacho"},
    "triggers": [{"type": "business_event", "event": "order.shipped"}],
    "nodes": [
        {"id": "aviso", "type": "whatsapp_text",
         "config": {"text": "Tu pedido salió hoy",
                    "fallback_template": {"name": "pedido_despachado", "language": "es",
                                          "body_params": []}},
         "exits": {"next": None, "failed": None}},
    ],
}
# Without a WhatsApp number configured, WhatsApp goes to the simulator (see handlers).
REASON = "the contact has no address for simulator"


@pytest.fixture(scope="module")
def shipped_flow(webapp: WebApp) -> int:
    flow_id: int = api_call(webapp, "POST", "/flows", json={"document": SHIPPED_FLOW})["id"]
    api_call(webapp, "POST", f"/flows/{flow_id}/publish", json={})
    return flow_id


def _dead_letter_for(webapp: WebApp, email: str) -> dict[str, Any]:
    """Ship an order to a new contact known by e-mail only; wait until its message is dead."""
    contact_id = api_call(webapp, "POST", "/events", json={
        "name": "order.shipped", "event_id": uuid.uuid4().hex,
        "contact": {"email": email, "first_name": "Dora"}})["contact_id"]

    def dead() -> dict[str, Any] | None:
        cursor = None
        while True:
            page = api_call(webapp, "GET", "/dead-letters",
                            params={"cursor": cursor} if cursor else {})
            for item in page["items"]:
                if item["contact_id"] == contact_id:
                    found: dict[str, Any] = item
                    return found
            cursor = page["next_cursor"]
            if not cursor:
                return None

    return settle(webapp, dead, f"the dead letter of contact {contact_id}")


def _outbox(webapp: WebApp, item_id: int) -> OutboxItem:
    with webapp.cauce.transaction() as session:
        row = session.scalars(select(OutboxItem).where(OutboxItem.id == item_id)).one()
        session.expunge(row)
        return row


def _row(page: Page, item_id: int, more: str) -> Locator:
    """The dead letter's row, pressing "Load more" while it is on a later page."""
    row = page.get_by_test_id(f"dead-letter-{item_id}")
    expect(page.get_by_test_id("dead-letters")).to_be_visible()
    while not row.is_visible():
        page.get_by_role("button", name=more, exact=True).click()
    return row


def test_a_dead_letter_shows_its_reason_and_retry_queues_it_again(
    page: Page, webapp: WebApp, shipped_flow: int, screenshots: Path, axe_source: str
) -> None:
    dead = _dead_letter_for(webapp, "dora@dead.example.com")
    # Refused while routing, before any provider was called: no attempt was used.
    assert (dead["reason"], dead["code"], dead["attempts"]) == (REASON, "no_address", 0)

    use_language(page, "es")
    sign_in_with_key(page, webapp.demo.api_key)
    page.get_by_role("navigation").get_by_role("link", name="Envíos fallidos").click()
    expect(page.get_by_role("heading", name="Envíos fallidos")).to_be_visible()
    row = _row(page, dead["id"], "Cargar más")
    expect(row.get_by_test_id("dead-reason")).to_have_text(REASON)
    expect(row).to_contain_text("no_address")
    expect(row).to_contain_text("El contacto no tiene teléfono o correo para este canal.")
    expect(row).to_contain_text("Mensaje · WhatsApp")
    expect(row.get_by_role("link", name=f"Ejecuciones del contacto #{dead['contact_id']}")) \
        .to_have_attribute("href", f"#/runs?contact={dead['contact_id']}")
    row.get_by_text("Contenido", exact=True).click()
    expect(row.locator("details pre")).to_contain_text("Tu pedido salió hoy")
    violations = axe_violations(page, axe_source)
    assert violations == [], describe(violations)
    assert untranslated(page, "es") == []
    page.screenshot(path=screenshots / "dead-letters-es.png")

    # The run's step log is one click away.
    row.get_by_role("link", name="Ver ejecución").click()
    expect(page.get_by_role("heading", name=f"Ejecución {dead['run_id']}")).to_be_visible()
    page.go_back()
    row = _row(page, dead["id"], "Cargar más")

    # Someone adds the contact's number: the message has somewhere to go now.
    api_call(webapp, "PATCH", f"/contacts/{dead['contact_id']}", json={"phone": "+5491177770901"})
    with page.expect_response(f"**/api/v1/dead-letters/{dead['id']}/retry") as answer:
        row.get_by_role("button", name=f"Reintentar el envío #{dead['id']}").click()
    assert answer.value.status == 200
    queued = answer.value.json()
    assert (queued["status"], queued["attempts"], queued["reason"]) == ("pending", 0, None)
    expect(row).to_have_count(0)
    expect(page.get_by_test_id("dead-notice")).to_have_text(
        f"El envío #{dead['id']} volvió a la cola: Cauce lo enviará enseguida.")

    # The runtime takes it from the queue and delivers it this time.
    sent = settle(webapp, lambda: (r := _outbox(webapp, dead["id"])).status == "done" and r,
                  "the retried message to be delivered")
    assert (sent.attempts, sent.last_error) == (1, None)
    listed = api_call(webapp, "GET", "/dead-letters", params={"limit": 500})["items"]
    assert dead["id"] not in [i["id"] for i in listed]
    transcript = api_call(webapp, "GET", f"/simulator/contacts/{dead['contact_id']}/messages")
    # The conversation shows the message as sent, no longer as failed.
    assert [(m["status"], m["error_reason"]) for m in transcript["items"]
            if m["key"] == dead["key"]] == [("sent", None)]


def test_a_refused_retry_shows_the_api_message_and_keeps_the_list(
    page: Page, webapp: WebApp, shipped_flow: int, screenshots: Path
) -> None:
    dead = _dead_letter_for(webapp, "eva@dead.example.com")
    use_language(page, "en")
    sign_in_with_key(page, webapp.demo.api_key)
    page.get_by_role("navigation").get_by_role("link", name="Failed deliveries").click()
    row = _row(page, dead["id"], "Load more")
    expect(row.get_by_test_id("dead-reason")).to_have_text(REASON)
    expect(row).to_contain_text("Message · WhatsApp")
    rows_before = page.get_by_test_id("dead-letters").locator("tbody tr").count()

    # Meanwhile someone else retries it (through the API) and it is delivered.
    api_call(webapp, "PATCH", f"/contacts/{dead['contact_id']}", json={"phone": "+5491177770902"})
    api_call(webapp, "POST", f"/dead-letters/{dead['id']}/retry")
    settle(webapp, lambda: _outbox(webapp, dead["id"]).status == "done",
           "the message retried behind the screen's back to be delivered")

    row.get_by_role("button", name=f"Retry delivery #{dead['id']}").click()
    expect(row.get_by_role("alert")).to_have_text(
        f"Could not retry: outbox item {dead['id']} is 'done', not a dead letter; only dead "
        "letters can be retried")
    expect(row.get_by_role("button", name=f"Retry delivery #{dead['id']}")).to_be_enabled()
    expect(page.get_by_test_id("dead-letters").locator("tbody tr")).to_have_count(rows_before)
    assert untranslated(page, "en") == []
    page.screenshot(path=screenshots / "dead-letters-refused-en.png")
    assert _outbox(webapp, dead["id"]).status == "done"
