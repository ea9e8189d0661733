"""GET/PUT /workspace/contact-rules: the rules the channels read, checked the same way."""

from __future__ import annotations

from fastapi.testclient import TestClient

from cauce.services import inbound
from cauce.services.container import Cauce
from cauce.services.workspaces import DemoCredentials

URL = "/api/v1/workspace/contact-rules"


def test_defaults_then_saved_rules_are_what_the_channels_read(
    api: TestClient, cauce: Cauce, demo: DemoCredentials
) -> None:
    first = api.get(URL)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["marketing_per_day"] == 2 and body["marketing_per_week"] == 5
    assert "baja" in body["stop_keywords"] and body["communication_window"] is None
    assert body["country"] and isinstance(body["upcoming_holidays"], list)

    saved = api.put(URL, json={
        "stop_keywords": ["basta"], "resume_keywords": ["volver"], "marketing_per_day": 1,
        "marketing_per_week": None, "require_marketing_consent": True,
        "communication_window": {"weekdays": ["mon", "tue", "wed", "thu", "fri"],
                                 "start": "09:00", "end": "18:00", "skip_holidays": True}})
    assert saved.status_code == 200, saved.text
    assert saved.json()["marketing_per_week"] is None
    assert api.get(URL).json()["communication_window"]["skip_holidays"] is True
    with cauce.transaction() as session:
        rules = inbound.workspace_rules(session, demo.workspace_id)
    assert rules.stop_keywords == frozenset({"basta"})
    assert rules.marketing_per_day == 1 and rules.marketing_per_week is None
    assert rules.require_marketing_consent is True
    assert rules.communication_window is not None


def test_bad_rules_are_422_and_change_nothing(api: TestClient) -> None:
    before = api.get(URL).json()
    cases = [
        ({"marketing_per_day": -1}, "marketing_per_day"),
        ({"communication_window": {"weekdays": ["mon"], "start": "18:00", "end": "09:00"}},
         "communication_window.end"),
        ({"communication_window": {"weekdays": ["lun"], "start": "09:00", "end": "18:00"}},
         "communication_window.weekdays.0"),
        ({"surprise": 1}, "surprise"),
    ]
    for payload, field in cases:
        answer = api.put(URL, json=payload)
        assert answer.status_code == 422, (payload, answer.text)
        assert answer.json()["error"]["field"] == field, answer.json()
    assert api.get(URL).json() == before


def test_only_admins_change_the_rules(api: TestClient) -> None:
    key = api.post("/api/v1/apikeys", json={"name": "ro", "role": "viewer"}).json()["key"]
    viewer = {"Authorization": f"Bearer {key}"}
    assert api.get(URL, headers=viewer).status_code == 200
    assert api.put(URL, json={}, headers=viewer).status_code == 403
