"""The audit log records who changed flows, channels, templates, API keys and users: every such
change through the API is one entry naming the signed-in user, the action and the target."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from cauce.flows.examples import load_example
from cauce.services.workspaces import DemoCredentials


def _ok(res: Any, status: int = 200) -> Any:
    assert res.status_code == status, res.text
    return res.json() if res.content else None


def test_changes_to_flows_channels_templates_keys_and_users_are_audited(
    client: TestClient, demo: DemoCredentials
) -> None:
    me = _ok(client.post("/api/v1/session", json={"email": demo.email,
                                                   "password": demo.password}))
    client.headers["X-CSRF-Token"] = me["csrf_token"]
    owner = next(u["id"] for u in _ok(client.get("/api/v1/users"))["items"]
                 if u["email"] == demo.email)
    api = "/api/v1"
    expected: list[tuple[str, str]] = []

    flow = _ok(client.post(f"{api}/flows", json={"document": load_example("reactivation")}),
               201)
    f = f"flow:{flow['id']}"
    draft = load_example("reactivation")
    draft["nodes"][0]["config"]["duration"] = "3d"
    _ok(client.put(f"{api}/flows/{flow['id']}/draft", json={"document": draft}))
    _ok(client.patch(f"{api}/flows/{flow['id']}", json={"name": "Otra"}))
    _ok(client.post(f"{api}/flows/{flow['id']}/publish"), 201)
    _ok(client.post(f"{api}/flows/{flow['id']}/publish"), 201)
    _ok(client.post(f"{api}/flows/{flow['id']}/rollback", json={"version": 1}), 201)
    _ok(client.delete(f"{api}/flows/{flow['id']}"), 204)
    expected += [("flow.create", f), ("flow.update_draft", f), ("flow.update", f),
                 ("flow.publish", f), ("flow.publish", f), ("flow.rollback", f),
                 ("flow.archive", f)]

    channel = _ok(client.post(f"{api}/channels", json={
        "kind": "whatsapp", "name": "Ventas",
        "config": {"phone_number_id": "106540352242922", "waba_id": "102290129340398",
                   "graph_base_url": "http://127.0.0.1:9", "graph_version": "v23.0"},
        "secrets": {"access_token": "EAAG-token", "app_secret": "app-secret",
                    "verify_token": "verify"}}), 201)
    c = f"channel:{channel['id']}"
    _ok(client.patch(f"{api}/channels/{channel['id']}", json={"name": "Ventas AR"}))
    templates = f"{api}/channels/{channel['id']}/templates"
    template = _ok(client.post(templates, json={"name": "bienvenida", "language": "es_AR",
                                                "category": "utility", "status": "approved"}),
                   201)
    t = f"template:{template['id']}"
    _ok(client.post(templates, json={"name": "bienvenida", "language": "es_AR",
                                     "category": "utility", "status": "paused"}), 201)
    _ok(client.delete(f"{templates}/{template['id']}"), 204)
    _ok(client.delete(f"{api}/channels/{channel['id']}"), 204)
    expected += [("channel.created", c), ("channel.updated", c), ("template.saved", t),
                 ("template.saved", t), ("template.deleted", t), ("channel.deleted", c)]

    key = _ok(client.post(f"{api}/apikeys", json={"name": "tienda", "role": "editor"}), 201)
    assert _ok(client.delete(f"{api}/apikeys/{key['id']}"))["revoked_at"] is not None
    expected += [("apikey.created", f"apikey:{key['id']}"),
                 ("apikey.revoked", f"apikey:{key['id']}")]

    user = _ok(client.post(f"{api}/users", json={"email": "lu@example.com", "role": "agent",
                                                 "password": "secreto-largo"}), 201)
    u = f"user:{user['id']}"
    _ok(client.patch(f"{api}/users/{user['id']}", json={"role": "editor"}))
    _ok(client.patch(f"{api}/users/{user['id']}", json={"disabled": True}))
    _ok(client.patch(f"{api}/users/{user['id']}", json={"disabled": False}))
    _ok(client.delete(f"{api}/users/{user['id']}"), 204)
    expected += [("user.added", u), ("user.role_changed", u), ("user.disabled", u),
                 ("user.enabled", u), ("user.removed", u)]

    _ok(client.post(f"{api}/session/password", json={
        "current_password": demo.password, "new_password": "otra-clave-larga"}), 204)
    expected += [("user.password_changed", f"user:{owner}")]
    # Every session of the user ended with the change: sign in again to read the log.
    again = _ok(client.post(f"{api}/session", json={"email": demo.email,
                                                     "password": "otra-clave-larga"}))
    client.headers["X-CSRF-Token"] = again["csrf_token"]
    entries = _ok(client.get(f"{api}/audit", params={"limit": 200}))["items"]
    mine = [e for e in entries if e["actor"] == f"user:{owner}"]
    assert [(e["action"], e["target"]) for e in mine] == expected
    saved = next(e for e in mine if e["action"] == "template.saved")
    assert saved["details"]["name"] == "bienvenida" and saved["details"]["status"] == "approved"
    only_templates = _ok(client.get(f"{api}/audit", params={"action": "template."}))["items"]
    assert [e["action"] for e in only_templates] == ["template.saved", "template.saved",
                                                     "template.deleted"]
