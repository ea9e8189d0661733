"""The editor's read-only API: node types (palette, forms) and exits per node config."""

from __future__ import annotations

from fastapi.testclient import TestClient

from cauce.flows.registry import NODE_TYPES


def test_node_types_lists_every_registered_type_with_schema_example_and_exits(
    api: TestClient,
) -> None:
    answer = api.get("/api/v1/node-types")
    assert answer.status_code == 200
    types = {t["type"]: t for t in answer.json()}
    assert set(types) == set(NODE_TYPES)
    buttons = types["whatsapp_buttons"]
    assert buttons["category"] == "message"
    assert buttons["config_schema"]["properties"]["buttons"]["type"] == "array"
    assert buttons["example"]["type"] == "whatsapp_buttons"
    ids = [b["id"] for b in buttons["example"]["config"]["buttons"]]
    assert buttons["example_exits"] == [*ids, "replied", "timeout", "failed"]
    assert buttons["exits"] == ["replied", "timeout", "failed"]
    assert buttons["dynamic_exits"]
    assert types["end"]["exits"] == types["end"]["example_exits"] == []


def test_node_types_needs_credentials(client: TestClient) -> None:
    answer = client.get("/api/v1/node-types")
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "unauthorized"


def test_exits_follow_the_config_and_the_flow(api: TestClient) -> None:
    nodes = [
        {"id": "menu", "type": "whatsapp_buttons", "config": {
            "body": "¿Qué te interesa?",
            "buttons": [{"id": "buy", "title": "Comprar"}, {"id": "info", "title": "Info"}]}},
        # a wait for reply offers the buttons of the message it waits on
        {"id": "wait", "type": "wait_for_reply", "config": {"message_node": "menu"}},
        {"id": "split", "type": "random_split", "config": {
            "paths": [{"name": "a", "weight": 1}, {"name": "b", "weight": 1},
                      {"name": "c", "weight": 2}]}},
    ]
    answer = api.post("/api/v1/node-types/exits", json={"nodes": nodes})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["invalid"] == {}
    assert body["exits"] == {
        "menu": ["buy", "info", "replied", "timeout", "failed"],
        "wait": ["replied", "timeout", "buy", "info"],
        "split": ["a", "b", "c"],
    }


def test_exits_report_nodes_whose_config_does_not_parse(api: TestClient) -> None:
    nodes = [
        {"id": "menu", "type": "whatsapp_buttons", "config": {"body": "x", "buttons": []}},
        {"id": "odd", "type": "no_such_type", "config": {}},
        {"id": "ok", "type": "add_tag", "config": {"tags": ["lead"]}, "exits": {"next": "gone"}},
    ]
    body = api.post("/api/v1/node-types/exits", json={"nodes": nodes}).json()
    assert body["exits"] == {"ok": ["next"]}
    assert "config.buttons" in body["invalid"]["menu"]
    assert "no_such_type" in body["invalid"]["odd"]


def test_exits_rejects_a_body_without_nodes(api: TestClient) -> None:
    answer = api.post("/api/v1/node-types/exits", json={"flow": {}})
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == "nodes"


def test_flow_schema_offers_triggers_and_settings(api: TestClient) -> None:
    schema = api.get("/api/v1/flow-schema").json()
    assert "FlowSettings" in schema["$defs"]
    assert "InboundMessageTrigger" in schema["$defs"]
    assert schema["properties"]["nodes"]["type"] == "array"
