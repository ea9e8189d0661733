from __future__ import annotations

from fastapi.testclient import TestClient

from cauce.services.workspaces import DemoCredentials


def test_users_roles_and_audit(api: TestClient) -> None:
    res = api.post(
        "/api/v1/users",
        json={
            "email": "Lucia@Example.com",
            "role": "agent",
            "name": "Lucía",
            "password": "secreto-largo",
        },
    )
    assert res.status_code == 201, res.text
    lucia = res.json()
    assert lucia["email"] == "lucia@example.com" and lucia["role"] == "agent"
    assert (
        api.post("/api/v1/users", json={"email": "lucia@example.com", "role": "agent"}).status_code
        == 409
    )
    assert (
        api.post("/api/v1/users", json={"email": "n@example.com", "role": "agent"}).status_code
        == 422
    )
    assert (
        api.post(
            "/api/v1/users", json={"email": "n@example.com", "role": "god", "password": "12345678"}
        ).status_code
        == 422
    )
    promoted = api.patch(f"/api/v1/users/{lucia['id']}", json={"role": "editor"}).json()
    assert promoted["role"] == "editor"
    owner = next(u for u in api.get("/api/v1/users").json()["items"] if u["role"] == "owner")
    last = api.patch(f"/api/v1/users/{owner['id']}", json={"role": "admin"})
    assert last.status_code == 409
    assert api.delete(f"/api/v1/users/{lucia['id']}").status_code == 204
    assert api.get(f"/api/v1/users/{lucia['id']}").status_code == 404
    actions = [a["action"] for a in api.get("/api/v1/audit").json()["items"]]
    assert actions == ["apikey.created", "user.added", "user.role_changed", "user.removed"]
    users_only = api.get("/api/v1/audit", params={"action": "user."}).json()["items"]
    assert len(users_only) == 3 and all(a["actor"].startswith("apikey:") for a in users_only)


def test_viewer_key_cannot_write(api: TestClient) -> None:
    key = api.post("/api/v1/apikeys", json={"name": "ro", "role": "viewer"}).json()["key"]
    viewer = TestClient(api.app, headers={"Authorization": f"Bearer {key}"})
    assert viewer.get("/api/v1/contacts").status_code == 200
    res = viewer.post("/api/v1/contacts", json={"phone": "+5491122334455"})
    assert res.status_code == 403 and "agent" in res.json()["error"]["message"]
    assert viewer.get("/api/v1/audit").status_code == 403


def test_cookie_login_csrf_switch_and_logout(client: TestClient, demo: DemoCredentials) -> None:
    bad = client.post("/api/v1/session", json={"email": demo.email, "password": "wrong"})
    assert bad.status_code == 401 and bad.json()["error"]["message"] == "wrong email or password"
    res = client.post("/api/v1/session", json={"email": demo.email, "password": demo.password})
    assert res.status_code == 200, res.text
    me = res.json()
    cookie = res.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert me["role"] == "owner" and me["workspaces"][0]["slug"] == "demo"
    # reads work with the cookie alone
    assert client.get("/api/v1/contacts").status_code == 200
    assert client.get("/api/v1/session").json()["email"] == demo.email
    # writes need the CSRF token
    res = client.post("/api/v1/contacts", json={"phone": "+5491122334455"})
    assert res.status_code == 403 and "X-CSRF-Token" in res.json()["error"]["message"]
    res = client.post(
        "/api/v1/contacts",
        json={"phone": "+5491122334455"},
        headers={"X-CSRF-Token": me["csrf_token"]},
    )
    assert res.status_code == 201
    audit = client.get("/api/v1/audit").json()["items"]
    assert audit[0]["action"] == "apikey.created"
    # switching to a workspace the user is not in is 404
    res = client.post(
        "/api/v1/session/workspace",
        json={"workspace_id": 999},
        headers={"X-CSRF-Token": me["csrf_token"]},
    )
    assert res.status_code == 404
    res = client.post(
        "/api/v1/session/workspace",
        json={"workspace_id": me["workspace_id"]},
        headers={"X-CSRF-Token": me["csrf_token"]},
    )
    assert res.status_code == 200
    assert client.delete("/api/v1/session").status_code == 204
    assert client.get("/api/v1/contacts").status_code == 401
    assert client.get("/api/v1/session").status_code == 401


def test_password_change_ends_sessions(client: TestClient, demo: DemoCredentials) -> None:
    me = client.post(
        "/api/v1/session", json={"email": demo.email, "password": demo.password}
    ).json()
    res = client.post(
        "/api/v1/session/password",
        json={"current_password": demo.password, "new_password": "otra-clave-larga"},
        headers={"X-CSRF-Token": me["csrf_token"]},
    )
    assert res.status_code == 204
    assert client.get("/api/v1/session").status_code == 401
    again = client.post(
        "/api/v1/session", json={"email": demo.email, "password": "otra-clave-larga"}
    )
    assert again.status_code == 200
