from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from cauce.clock import VirtualClock
from cauce.services import contacts
from cauce.services.container import Cauce
from cauce.services.workspaces import DemoCredentials


def _people(api: TestClient, cauce: Cauce, clock: VirtualClock, demo: DemoCredentials) -> None:
    api.post(
        "/api/v1/contact-fields", json={"key": "plan", "type": "choice", "choices": ["free", "pro"]}
    )
    api.post("/api/v1/contact-fields", json={"key": "seats", "type": "number"})
    people = [
        {
            "email": "a@x.com",
            "tags": ["vip"],
            "lead_score": 80,
            "fields": {"plan": "pro", "seats": 10},
            "attribution": {"utm": {"source": "facebook"}},
            "consent": {"whatsapp": {"status": "opted_in"}},
        },
        {
            "email": "b@x.com",
            "tags": ["vip", "late", "ñandú"],
            "lead_score": 20,
            "fields": {"plan": "free"},
        },
        {
            "email": "c@x.com",
            "tags": [],
            "lead_score": 55,
            "name": "Carla",
            "attribution": {"referral": {"source_id": "ad-7"}},
        },
    ]
    ids = [api.post("/api/v1/contacts", json=p).json()["id"] for p in people]
    with cauce.transaction() as session:
        contacts.record_activity(session, demo.workspace_id, ids[0], "in", clock.now())
        contacts.record_activity(
            session, demo.workspace_id, ids[1], "in", clock.now() - timedelta(days=40)
        )


def _count(api: TestClient, *conditions: dict[str, object], match: str = "all") -> int:
    res = api.post(
        "/api/v1/segments/preview", json={"match": match, "conditions": list(conditions)}
    )
    assert res.status_code == 200, res.text
    return int(res.json()["count"])


def test_filters_on_fields_tags_activity_score_and_attribution(
    api: TestClient, cauce: Cauce, clock: VirtualClock, demo: DemoCredentials
) -> None:
    _people(api, cauce, clock, demo)
    assert _count(api, {"field": "tags", "op": "has", "value": "vip"}) == 2
    assert _count(api, {"field": "tags", "op": "has_not", "value": "vip"}) == 1
    assert _count(api, {"field": "tags", "op": "has", "value": "ñandú"}) == 1
    assert _count(api, {"field": "tags", "op": "has", "value": "VIP"}) == 0
    assert _count(api, {"field": "tags", "op": "has_any", "value": ["late", "none"]}) == 1
    assert _count(api, {"field": "lead_score", "op": "gte", "value": 50}) == 2
    assert _count(api, {"field": "fields.plan", "op": "eq", "value": "pro"}) == 1
    assert _count(api, {"field": "fields.seats", "op": "gt", "value": 5}) == 1
    assert _count(api, {"field": "last_inbound_at", "op": "within_days", "value": 7}) == 1
    assert _count(api, {"field": "last_inbound_at", "op": "not_within_days", "value": 7}) == 2
    assert _count(api, {"field": "utm_source", "op": "eq", "value": "facebook"}) == 1
    assert _count(api, {"field": "ad_id", "op": "is_set"}) == 1
    assert _count(api, {"field": "consent.whatsapp", "op": "eq", "value": "opted_in"}) == 1
    assert _count(api, {"field": "name", "op": "contains", "value": "arl"}) == 1
    assert (
        _count(
            api,
            {"field": "lead_score", "op": "lt", "value": 30},
            {
                "match": "all",
                "conditions": [
                    {"field": "tags", "op": "has", "value": "vip"},
                    {"field": "lead_score", "op": "gt", "value": 70},
                ],
            },
            match="any",
        )
        == 2
    )


def test_bad_filters_name_the_condition(api: TestClient) -> None:
    for cond, text in (
        ({"field": "shoe_size", "op": "eq", "value": 1}, "unknown field"),
        ({"field": "lead_score", "op": "contains", "value": 1}, "number fields support"),
        ({"field": "fields.nope", "op": "eq", "value": 1}, "no custom field"),
        ({"field": "last_inbound_at", "op": "within_days", "value": "x"}, "number of days"),
    ):
        res = api.post("/api/v1/segments/preview", json={"conditions": [cond]})
        assert res.status_code == 422, res.text
        assert text in res.json()["error"]["message"]
        assert "conditions.0" in res.json()["error"]["message"]


def test_saved_segment_crud_count_and_members(
    api: TestClient, cauce: Cauce, clock: VirtualClock, demo: DemoCredentials
) -> None:
    _people(api, cauce, clock, demo)
    body = {
        "name": "VIP",
        "filter": {"conditions": [{"field": "tags", "op": "has", "value": "vip"}]},
    }
    seg = api.post("/api/v1/segments", json=body)
    assert seg.status_code == 201, seg.text
    sid = seg.json()["id"]
    assert api.post("/api/v1/segments", json=body).status_code == 409
    assert api.get(f"/api/v1/segments/{sid}/count").json() == {"count": 2}
    members = api.get(f"/api/v1/segments/{sid}/contacts").json()["items"]
    assert {m["email"] for m in members} == {"a@x.com", "b@x.com"}
    assert len(api.get("/api/v1/contacts", params={"segment_id": sid}).json()["items"]) == 2
    updated = api.patch(
        f"/api/v1/segments/{sid}",
        json={"filter": {"conditions": [{"field": "lead_score", "op": "gte", "value": 80}]}},
    )
    assert updated.status_code == 200
    assert api.get(f"/api/v1/segments/{sid}/count").json() == {"count": 1}
    assert api.get("/api/v1/segments").json()["items"][0]["name"] == "VIP"
    assert api.delete(f"/api/v1/segments/{sid}").status_code == 204
    assert api.get(f"/api/v1/segments/{sid}").status_code == 404
