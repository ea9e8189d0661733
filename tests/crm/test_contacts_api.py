from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from cauce.clock import VirtualClock
from cauce.services import contacts
from cauce.services.contacts import record_activity
from cauce.services.container import Cauce
from cauce.store.models import RuntimeInput


def _inputs(cauce: Cauce) -> list[dict[str, Any]]:
    with cauce.transaction() as session:
        return [r.payload for r in session.scalars(select(RuntimeInput).order_by(RuntimeInput.id))]


def test_create_normalises_phone_email_and_derives_country_and_timezone(api: TestClient) -> None:
    res = api.post(
        "/api/v1/contacts",
        json={
            "phone": "011 15-2233-4455",
            "email": "Ana@Example.COM",
            "first_name": "Ana",
            "last_name": "Pérez",
            "language": "ES",
        },
    )
    assert res.status_code == 201, res.text
    body = res.json()
    assert body["phone"].startswith("+54")
    assert body["email"] == "ana@example.com"
    assert body["country"] == "AR"
    assert body["timezone"].startswith("America/")
    assert body["name"] == "Ana Pérez" and body["language"] == "es"
    got = api.get(f"/api/v1/contacts/{body['id']}").json()
    assert got == body


def test_bad_phone_and_email_are_422_naming_the_field(api: TestClient) -> None:
    res = api.post("/api/v1/contacts", json={"phone": "12"})
    assert res.status_code == 422 and res.json()["error"]["field"] == "phone"
    res = api.post("/api/v1/contacts", json={"email": "not-an-email"})
    assert res.status_code == 422 and res.json()["error"]["field"] == "email"
    res = api.post("/api/v1/contacts", json={"name": "nobody"})
    assert (
        res.status_code == 422
        and "phone, an email or an external_id" in res.json()["error"]["message"]
    )


def test_duplicate_identifier_is_409_and_merge_folds_the_duplicate(api: TestClient) -> None:
    a = api.post("/api/v1/contacts", json={"phone": "+5491122334455", "tags": ["a"]}).json()
    b = api.post(
        "/api/v1/contacts", json={"email": "b@example.com", "name": "Bea", "tags": ["b"]}
    ).json()
    clash = api.patch(f"/api/v1/contacts/{a['id']}", json={"email": "b@example.com"})
    assert clash.status_code == 409 and clash.json()["error"]["field"] == "email"
    merged = api.post(f"/api/v1/contacts/{a['id']}/merge", json={"merge_id": b["id"]})
    assert merged.status_code == 200, merged.text
    body = merged.json()
    assert body["email"] == "b@example.com" and body["name"] == "Bea"
    assert body["tags"] == ["a", "b"]
    assert api.get(f"/api/v1/contacts/{b['id']}").status_code == 404
    listed = api.get("/api/v1/contacts").json()["items"]
    assert [c["id"] for c in listed] == [a["id"]]


def test_merge_by_phone_moves_deals_and_tickets_and_keeps_the_earliest_first_touch(
    api: TestClient, cauce: Cauce, clock: VirtualClock
) -> None:
    api.post("/api/v1/contact-fields", json={"key": "plan", "type": "text"})
    # The duplicate came first, from an ad; the kept contact later, from a UTM link.
    dup = api.post("/api/v1/contacts", json={
        "email": "ana@example.com", "name": "Ana", "tags": ["ad"], "lead_score": 40,
        "fields": {"plan": "free"}, "consent": {"email": {"status": "opted_in"}},
        "attribution": {"referral": {"source_id": "120210"}}}).json()
    clock.advance(timedelta(days=3))
    keep = api.post("/api/v1/contacts", json={
        "phone": "+5491122334455", "tags": ["web"], "lead_score": 10, "fields": {"plan": "pro"},
        "attribution": {"utm": {"source": "google"}}}).json()
    with cauce.transaction() as s:
        record_activity(s, 1, dup["id"], "in", clock.now() - timedelta(days=2))
        record_activity(s, 1, keep["id"], "in", clock.now() - timedelta(days=1))
    clash = api.patch(f"/api/v1/contacts/{dup['id']}", json={"phone": "+54 9 11 2233-4455"})
    assert clash.status_code == 409 and clash.json()["error"]["field"] == "phone"
    assert str(keep["id"]) in clash.json()["error"]["message"]  # names the other contact
    api.post("/api/v1/pipelines", json={"name": "Ventas", "stages": ["Nuevo"]})
    opp = api.post("/api/v1/opportunities", json={"contact_id": dup["id"], "pipeline": "Ventas",
                                                  "name": "Plan anual"}).json()
    ticket = api.post("/api/v1/tickets", json={"subject": "Factura", "contact_id": dup["id"],
                                               "key": "t-1"}).json()

    merged = api.post(f"/api/v1/contacts/{keep['id']}/merge", json={"merge_id": dup["id"]})
    assert merged.status_code == 200, merged.text
    body = merged.json()
    assert (body["phone"], body["email"], body["name"]) == ("+5491122334455", "ana@example.com",
                                                           "Ana")
    assert body["tags"] == ["web", "ad"] and body["lead_score"] == 40
    assert body["fields"] == {"plan": "pro"}  # the kept contact's value wins
    assert body["consent"]["email"]["status"] == "opted_in"
    assert body["attribution"]["source"] == "ad"  # the earliest first touch
    assert body["attribution"]["referral"] == {"source_id": "120210"}
    assert body["last_inbound_at"].startswith(
        (clock.now() - timedelta(days=1)).date().isoformat())  # the latest activity
    assert api.get(f"/api/v1/opportunities/{opp['id']}").json()["contact_id"] == keep["id"]
    assert api.get(f"/api/v1/tickets/{ticket['id']}").json()["contact_id"] == keep["id"]
    assert api.get(f"/api/v1/contacts/{dup['id']}").status_code == 404
    found = api.get("/api/v1/contacts", params={"q": "ana@example.com"}).json()["items"]
    assert [c["id"] for c in found] == [keep["id"]]
    again = api.post(f"/api/v1/contacts/{keep['id']}/merge", json={"merge_id": dup["id"]})
    assert again.status_code == 404
    itself = api.post(f"/api/v1/contacts/{keep['id']}/merge", json={"merge_id": keep["id"]})
    assert itself.status_code == 422 and itself.json()["error"]["field"] == "merge_id"


def test_upsert_matches_by_phone_or_email_and_merges_two_matches(api: TestClient) -> None:
    first = api.post("/api/v1/contacts/upsert", json={"phone": "+5491122334455"}).json()
    assert first["created"] is True
    again = api.post(
        "/api/v1/contacts/upsert", json={"phone": "+54 9 11 2233 4455", "name": "Ana"}
    ).json()
    assert again["created"] is False and again["contact"]["id"] == first["contact"]["id"]
    other = api.post("/api/v1/contacts", json={"email": "ana@example.com"}).json()
    both = api.post(
        "/api/v1/contacts/upsert", json={"phone": "+5491122334455", "email": "ana@example.com"}
    ).json()
    assert both["contact"]["id"] == first["contact"]["id"]
    assert both["contact"]["email"] == "ana@example.com"
    assert api.get(f"/api/v1/contacts/{other['id']}").status_code == 404


@pytest.mark.parametrize("seen_by", ["check", "unique_index"])
def test_upsert_racing_another_request_for_the_same_new_contact_updates_it(
    api: TestClient, monkeypatch: pytest.MonkeyPatch, seen_by: str
) -> None:
    """Two requests for a new customer at once: the second one's lookup ran before the
    first one committed, so its create meets the contact — in create's own uniqueness check,
    or (when the first commits later still) in the unique index. It updates that contact:
    no 409/500, no duplicate."""
    if seen_by == "unique_index":
        monkeypatch.setattr(contacts, "_check_unique", lambda *args: None)
    first = api.post("/api/v1/contacts/upsert", json={"phone": "+5491122334455"}).json()
    real = contacts.find_by_identifiers
    lookups: list[int] = []

    def late_lookup(*args: Any, **kwargs: Any) -> list[Any]:
        lookups.append(1)
        return [] if len(lookups) == 1 else real(*args, **kwargs)  # the first one is stale

    monkeypatch.setattr(contacts, "find_by_identifiers", late_lookup)
    raced = api.post("/api/v1/contacts/upsert", json={"phone": "+5491122334455",
                                                      "name": "Ana"})
    assert raced.status_code == 200, raced.text
    assert raced.json()["created"] is False
    assert raced.json()["contact"]["id"] == first["contact"]["id"]
    assert raced.json()["contact"]["name"] == "Ana" and len(lookups) == 2
    listed = api.get("/api/v1/contacts", params={"q": "+5491122334455"}).json()["items"]
    assert [c["id"] for c in listed] == [first["contact"]["id"]]


def test_custom_fields_are_typed_and_validated(api: TestClient) -> None:
    for body in (
        {"key": "plan", "type": "choice", "choices": ["free", "pro"]},
        {"key": "seats", "type": "number"},
        {"key": "renewal", "type": "date"},
        {"key": "vip", "type": "boolean"},
        {"key": "notes", "type": "text"},
    ):
        assert api.post("/api/v1/contact-fields", json=body).status_code == 201
    assert api.post("/api/v1/contact-fields", json={"key": "x", "type": "color"}).status_code == 422
    assert (
        api.post("/api/v1/contact-fields", json={"key": "plan", "type": "text"}).status_code == 409
    )
    c = api.post(
        "/api/v1/contacts",
        json={
            "phone": "+5491122334455",
            "fields": {"plan": "pro", "seats": "3", "renewal": "2026-05-01", "vip": "si"},
        },
    )
    assert c.status_code == 201, c.text
    assert c.json()["fields"] == {"plan": "pro", "seats": 3, "renewal": "2026-05-01", "vip": True}
    for bad, field in (
        ({"plan": "gold"}, "fields.plan"),
        ({"seats": "many"}, "fields.seats"),
        ({"renewal": "mañana"}, "fields.renewal"),
        ({"vip": "quizás"}, "fields.vip"),
        ({"unknown": 1}, "fields.unknown"),
    ):
        res = api.patch(f"/api/v1/contacts/{c.json()['id']}", json={"fields": bad})
        assert res.status_code == 422 and res.json()["error"]["field"] == field, res.text
    cleared = api.patch(f"/api/v1/contacts/{c.json()['id']}", json={"fields": {"seats": None}})
    assert "seats" not in cleared.json()["fields"]
    fields = api.get("/api/v1/contact-fields").json()["items"]
    assert [f["key"] for f in fields] == ["plan", "seats", "renewal", "vip", "notes"]
    assert api.delete(f"/api/v1/contact-fields/{fields[-1]['id']}").status_code == 204


def test_consent_attribution_first_touch_and_opt_out(api: TestClient) -> None:
    c = api.post(
        "/api/v1/contacts",
        json={
            "phone": "+5491122334455",
            "consent": {"whatsapp": {"status": "opted_in", "source": "checkout"}},
            "attribution": {
                "referral": {"source_type": "ad", "source_id": "120210"},
                "utm": {"source": "facebook", "campaign": "verano"},
            },
        },
    ).json()
    assert c["consent"]["whatsapp"]["status"] == "opted_in"
    assert c["consent"]["whatsapp"]["source"] == "checkout" and c["consent"]["whatsapp"]["at"]
    assert c["attribution"]["source"] == "ad" and c["attribution"]["utm"]["source"] == "facebook"
    later = api.patch(
        f"/api/v1/contacts/{c['id']}",
        json={
            "attribution": {"utm": {"source": "google"}},
            "opted_out_marketing": True,
            "consent": {"email": {"status": "opted_out"}},
        },
    ).json()
    assert later["attribution"]["utm"]["source"] == "facebook"  # first touch wins
    assert later["opted_out_marketing"] is True and later["opted_out_marketing_at"]
    assert set(later["consent"]) == {"whatsapp", "email"}
    bad = api.patch(
        f"/api/v1/contacts/{c['id']}", json={"consent": {"fax": {"status": "opted_in"}}}
    )
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "consent.fax"


def test_tags_emit_events_for_flows(api: TestClient, cauce: Cauce) -> None:
    c = api.post("/api/v1/contacts", json={"phone": "+5491122334455"}).json()
    assert api.post(f"/api/v1/contacts/{c['id']}/tags", json={"tags": ["vip", "vip"]}).json()[
        "tags"
    ] == ["vip"]
    assert api.delete(f"/api/v1/contacts/{c['id']}/tags/vip").json()["tags"] == []
    names = [(p["name"], p["data"]["tag"]) for p in _inputs(cauce)]
    assert names == [("contact.tag_added", "vip"), ("contact.tag_removed", "vip")]


def test_list_is_paginated_and_searchable(api: TestClient) -> None:
    for i in range(5):
        api.post(
            "/api/v1/contacts",
            json={
                "email": f"p{i}@example.com",
                "name": f"P {i}",
                "tags": ["even"] if i % 2 == 0 else [],
            },
        )
    first = api.get("/api/v1/contacts", params={"limit": 2}).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    seen = [c["email"] for c in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        page = api.get("/api/v1/contacts", params={"limit": 2, "cursor": cursor}).json()
        seen += [c["email"] for c in page["items"]]
        cursor = page["next_cursor"]
    assert seen == [f"p{i}@example.com" for i in range(5)]
    assert len(api.get("/api/v1/contacts", params={"q": "P 3"}).json()["items"]) == 1
    assert len(api.get("/api/v1/contacts", params={"tag": "even"}).json()["items"]) == 3
    assert api.get("/api/v1/contacts", params={"limit": 0}).status_code == 422


def test_delete_contact(api: TestClient) -> None:
    c = api.post("/api/v1/contacts", json={"phone": "+5491122334455"}).json()
    assert api.delete(f"/api/v1/contacts/{c['id']}").status_code == 204
    assert api.get(f"/api/v1/contacts/{c['id']}").status_code == 404
