"""Pipelines, opportunities and the opportunity.changed events the reactivation seed needs."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from cauce.services.container import Cauce
from cauce.store.models import RuntimeInput

STAGES = ["Nuevo", "Volumetric Appenders", "Propuesta"]


def _events(cauce: Cauce, name: str) -> list[dict[str, Any]]:
    with cauce.transaction() as session:
        rows = session.scalars(select(RuntimeInput).order_by(RuntimeInput.id))
        return [r.payload for r in rows if r.payload.get("name") == name]


def _setup(api: TestClient) -> tuple[dict[str, Any], dict[str, Any]]:
    pipeline = api.post("/api/v1/pipelines", json={"name": "Ventas", "stages": STAGES})
    assert pipeline.status_code == 201, pipeline.text
    contact = api.post("/api/v1/contacts", json={"phone": "+5491122334455"}).json()
    return pipeline.json(), contact


def test_pipeline_stages_are_ordered_and_editable(api: TestClient) -> None:
    pipeline, _ = _setup(api)
    assert [s["name"] for s in pipeline["stages"]] == STAGES
    assert [s["position"] for s in pipeline["stages"]] == [0, 1, 2]
    dup = api.post("/api/v1/pipelines", json={"name": "Ventas", "stages": ["a"]})
    assert dup.status_code == 409
    bad = api.post("/api/v1/pipelines", json={"name": "X", "stages": ["a", "a"]})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "stages"
    keep = pipeline["stages"][1]["id"]
    edited = api.patch(
        f"/api/v1/pipelines/{pipeline['id']}",
        json={"stages": ["Volumetric Appenders", "Nuevo", "Cierre"]},
    ).json()
    assert [s["name"] for s in edited["stages"]] == ["Volumetric Appenders", "Nuevo", "Cierre"]
    assert edited["stages"][0]["id"] == keep
    assert api.get("/api/v1/pipelines").json()["items"][0]["name"] == "Ventas"


def test_reactivation_seed_opportunity_moved_to_abandoned(api: TestClient, cauce: Cauce) -> None:
    pipeline, contact = _setup(api)
    created = api.post(
        "/api/v1/opportunities",
        json={
            "contact_id": contact["id"],
            "pipeline": "Ventas",
            "stage": "Volumetric Appenders",
            "value": 1500,
            "name": "Plan anual",
            "tags": ["web"],
        },
    )
    assert created.status_code == 201, created.text
    opp = created.json()
    assert opp["status"] == "open" and opp["stage"] == "Volumetric Appenders"
    moved = api.patch(f"/api/v1/opportunities/{opp['id']}", json={"status": "abandoned"})
    assert moved.status_code == 200 and moved.json()["closed_at"]
    events = _events(cauce, "opportunity.changed")
    assert len(events) == 2
    first, change = events[0]["data"], events[1]["data"]
    assert first["change"] == "created" and first["from_status"] is None
    assert first["moved_to_stage"] == "Volumetric Appenders"
    # The seed's trigger: In pipeline Ventas, stage Volumetric Appenders, moved to status
    # Abandoned, status Open (before the move) — see docs/crm.md.
    assert change["pipeline"] == "Ventas"
    assert change["stage"] == "Volumetric Appenders"
    assert change["moved_to_status"] == "abandoned"
    assert change["from_status"] == "open"
    assert change["status"] == "abandoned"
    assert change["from_stage"] == "Volumetric Appenders" and change["moved_to_stage"] is None
    assert change["changed"] == ["status"] and change["opportunity_id"] == opp["id"]
    assert change["value"] == 1500.0 and change["tags"] == ["web"]
    assert change["contact_id"] == contact["id"]
    assert events[1]["event_id"] == f"opportunity:{opp['id']}:change:2"
    history = api.get(f"/api/v1/opportunities/{opp['id']}/history").json()["items"]
    assert [h["changes"].get("status") for h in history] == [[None, "open"], ["open", "abandoned"]]
    assert history[1]["actor"].startswith("apikey:")
    # a lost opportunity marked abandoned is not "open before the move"
    lost = api.post(
        "/api/v1/opportunities",
        json={"contact_id": contact["id"], "pipeline": pipeline["id"], "status": "lost"},
    ).json()
    api.patch(f"/api/v1/opportunities/{lost['id']}", json={"status": "abandoned"})
    last = _events(cauce, "opportunity.changed")[-1]["data"]
    assert last["moved_to_status"] == "abandoned" and last["from_status"] == "lost"


def test_stage_moves_owner_and_no_op_updates(api: TestClient, cauce: Cauce) -> None:
    pipeline, contact = _setup(api)
    opp = api.post(
        "/api/v1/opportunities", json={"contact_id": contact["id"], "pipeline": "Ventas"}
    ).json()
    assert opp["stage"] == "Nuevo"
    moved = api.patch(f"/api/v1/opportunities/{opp['id']}", json={"stage": "Propuesta"}).json()
    assert moved["stage"] == "Propuesta"
    data = _events(cauce, "opportunity.changed")[-1]["data"]
    assert (data["from_stage"], data["moved_to_stage"], data["moved_to_status"]) == (
        "Nuevo",
        "Propuesta",
        None,
    )
    before = len(_events(cauce, "opportunity.changed"))
    api.patch(f"/api/v1/opportunities/{opp['id']}", json={"stage": "Propuesta"})
    assert len(_events(cauce, "opportunity.changed")) == before  # nothing changed, no event
    bad = api.patch(f"/api/v1/opportunities/{opp['id']}", json={"stage": "Nope"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "stage"
    bad = api.patch(f"/api/v1/opportunities/{opp['id']}", json={"owner_id": 999})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "owner_id"
    owner = api.get("/api/v1/users").json()["items"][0]
    owned = api.patch(f"/api/v1/opportunities/{opp['id']}", json={"owner_id": owner["id"]})
    assert owned.json()["owner_id"] == owner["id"]
    assert _events(cauce, "opportunity.changed")[-1]["data"]["owner"] == owner["email"]
    listed = api.get(
        "/api/v1/opportunities", params={"status": "open", "pipeline_id": pipeline["id"]}
    )
    assert [o["id"] for o in listed.json()["items"]] == [opp["id"]]
    # a stage with opportunities cannot be removed; the pipeline cannot be deleted
    res = api.patch(f"/api/v1/pipelines/{pipeline['id']}", json={"stages": ["Nuevo"]})
    assert res.status_code == 409 and "Propuesta" in res.json()["error"]["message"]
    assert api.delete(f"/api/v1/pipelines/{pipeline['id']}").status_code == 409
    assert api.delete(f"/api/v1/opportunities/{opp['id']}").status_code == 204
    assert api.delete(f"/api/v1/pipelines/{pipeline['id']}").status_code == 204


def test_missing_references_are_clear(api: TestClient) -> None:
    _, contact = _setup(api)
    res = api.post("/api/v1/opportunities", json={"contact_id": contact["id"], "pipeline": "Zz"})
    assert res.status_code == 422 and res.json()["error"]["field"] == "pipeline"
    res = api.post("/api/v1/opportunities", json={"pipeline": "Ventas"})
    assert res.status_code == 422 and res.json()["error"]["field"] == "contact_id"
    res = api.post("/api/v1/opportunities", json={"contact_id": 9999, "pipeline": "Ventas"})
    assert res.status_code == 404
