"""Workspace isolation: a key of workspace A gets 404 for the ids of workspace B on EVERY route
with a path parameter in the OpenAPI (routes added later are covered automatically), and no
list A can read shows B's data."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from cauce.ai.types import AiDecision
from cauce.engine.types import EventIn, HandoffRequested
from cauce.runtime.engine_port import default_engine
from cauce.runtime.ingest import submit_input
from cauce.runtime.processor import Processor
from cauce.services import ai, flows, inbox
from cauce.services.auth import Principal, create_api_key
from cauce.services.container import Cauce
from cauce.services.workspaces import create_workspace
from cauce.store.models import Base, Membership, OutboxItem
from tests.crm.openapi_walk import operations, request_body

MARK = "zzsecretofb"  # appears in B's data only


def _seed(client: TestClient, key: str, mark: str) -> None:
    h = {"Authorization": f"Bearer {key}"}

    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        res = client.post(f"/api/v1{path}", json=body, headers=h)
        assert res.status_code in (200, 201, 202), (path, res.text)
        return dict(res.json())

    post("/contact-fields", {"key": f"f{mark}", "type": "text"})
    contact = post("/contacts", {"email": f"{mark}@example.com", "name": mark, "tags": [mark]})
    post("/segments", {"name": mark, "filter": {"conditions": []}})
    post("/pipelines", {"name": mark, "stages": [f"s{mark}"]})
    post("/opportunities", {"contact_id": contact["id"], "pipeline": mark, "name": mark})
    post("/tickets", {"subject": mark, "contact_id": contact["id"], "key": mark})
    post("/event-sources", {"name": mark, "signed": False})
    post(
        "/events",
        {
            "name": "cart.abandoned",
            "event_id": mark,
            "source": mark,
            "contact": {"email": f"{mark}@example.com"},
        },
    )
    post("/users", {"email": f"{mark}@staff.example.com", "role": "agent", "password": "12345678"})
    post("/apikeys", {"name": mark, "role": "viewer"})
    res = client.post(
        "/api/v1/contacts/imports",
        headers=h,
        files={"file": ("c.csv", f"email\n{mark}2@example.com\n".encode(), "text/csv")},
        data={"mapping": '{"email": "email"}'},
    )
    assert res.status_code == 202, res.text


def _seed_generic(client: TestClient, key: str) -> int:
    """Create one of everything any route can create from its documented example, so routes
    added by other areas have data of B to be tested against. Returns how many succeeded."""
    spec = client.get("/openapi.json").json()
    created = 0
    for method, path, op in operations(spec):
        if method != "post" or "{" in path or path.startswith("/api/v1/session"):
            continue
        kind, body = request_body(spec, op)
        if kind != "json":
            continue
        res = client.post(path, json=body, headers={"Authorization": f"Bearer {key}"})
        created += res.status_code < 300
    return created


def _seed_runtime(client: TestClient, cauce: Cauce, key: str, workspace_id: int) -> None:
    """Rows that no create route makes, made the way the product makes them: a channel with a
    template, a webhook subscription, a flow's run (through the runtime), a conversation
    handed over by a handoff, an AI decision and a dead letter."""
    h = {"Authorization": f"Bearer {key}"}
    channel = client.post("/api/v1/channels", headers=h, json={
        "kind": "whatsapp", "name": f"wa{workspace_id}",
        "config": {"phone_number_id": f"10654035224{workspace_id:04d}",
                   "waba_id": "102290129340398", "graph_base_url": "http://127.0.0.1:9"},
        "secrets": {"access_token": "t", "app_secret": "s", "verify_token": "v"}})
    assert channel.status_code == 201, channel.text
    template = client.post(f"/api/v1/channels/{channel.json()['id']}/templates", headers=h,
                           json={"name": "hola", "language": "es", "status": "approved"})
    assert template.status_code == 201, template.text
    sub = client.post("/api/v1/webhook-subscriptions", headers=h, json={
        "url": "https://hooks.example.com/cauce", "events": ["contact.created"]})
    assert sub.status_code == 201, sub.text
    contact = client.post("/api/v1/contacts", headers=h,
                          json={"phone": f"+54911223{workspace_id:05d}"}).json()["id"]
    document = {"format": 1, "metadata": {"name": "espera", "language": "es"},
                "triggers": [{"type": "business_event", "event": "isolation.seed"}],
                "settings": {}, "nodes": [
                    {"id": "espera", "type": "delay", "config": {"duration": "7d"},
                     "exits": {"next": None}}]}
    now = cauce.clock.now()
    principal = Principal(workspace_id=workspace_id, actor="system", role="owner")
    with cauce.transaction() as session:
        flow = flows.create_flow(session, principal, document, now)
        flows.publish(session, principal, flow.id, now)
        submit_input(session, workspace_id=workspace_id, contact_id=contact,
                     input=EventIn(name="isolation.seed", occurred_at=now))
        inbox.apply_handoff(session, workspace_id, contact, None,
                            HandoffRequested(activity_id=f"iso-{workspace_id}",
                                             node_id="humano"), now)
        ai.record_decision(session, workspace_id, AiDecision(
            operation="sentiment", input="hola", output={"label": "neutral"}, confidence=0.5,
            model="test", method="offline", latency_ms=1.0), now, contact_id=contact)
        session.add(OutboxItem(
            workspace_id=workspace_id, contact_id=contact, key=f"iso-dead-{workspace_id}",
            kind="message_requested", channel="whatsapp", payload={}, status="dead",
            attempts=5, next_attempt_at=now, last_error="seeded", created_at=now,
            updated_at=now))
    processor = Processor(cauce, default_engine())
    while processor.process_batch():
        pass


def _ids_by_table(cauce: Cauce, workspace_id: int) -> dict[str, list[Any]]:
    """Every row id of the workspace, per table (generic: any table with workspace_id)."""
    out: dict[str, list[Any]] = {}
    with cauce.transaction() as session:
        for table in Base.metadata.sorted_tables:
            cols = table.c
            if "workspace_id" in cols and "id" in cols:
                out[table.name] = list(
                    session.scalars(select(cols.id).where(cols.workspace_id == workspace_id))
                )
        out["users"] = list(
            session.scalars(
                select(Membership.user_id).where(Membership.workspace_id == workspace_id)
            )
        )
    return out


def _table_for(param: str, tables: dict[str, list[Any]]) -> list[Any]:
    stem = re.sub(r"_(id|key|slug)$", "", param)
    aliases = {
        "key": "api_keys",
        "field": "contact_fields",
        "import": "import_jobs",
        "source": "event_sources",
        "run": "runtime_runs",
        "version": "flow_versions",
        "item": "runtime_outbox",
    }
    if stem in aliases and aliases[stem] in tables:
        return tables[aliases[stem]]
    for name in (f"{stem}s", f"{stem}es", stem, f"{stem[:-1]}ies" if stem.endswith("y") else ""):
        if name in tables:
            return tables[name]
    for name, ids in tables.items():
        if name.endswith(f"_{stem}s") or name.startswith(f"{stem}_"):
            return ids
    return []


def test_every_route_is_isolated_between_workspaces(
    api: TestClient, cauce: Cauce, demo: Any
) -> None:
    with cauce.transaction() as session:
        ws_b = create_workspace(session, "other", "Other", cauce.clock.now())
        key_b = create_api_key(session, ws_b.id, "b", cauce.clock.now(), role="owner").key
        b_id = ws_b.id
    _seed(api, demo.api_key, "aaa")
    _seed(api, key_b, MARK)
    _seed_runtime(api, cauce, demo.api_key, demo.workspace_id)
    _seed_runtime(api, cauce, key_b, b_id)
    assert _seed_generic(api, demo.api_key) >= 5
    assert _seed_generic(api, key_b) >= 5
    b_tables = _ids_by_table(cauce, b_id)
    a_tables = _ids_by_table(cauce, demo.workspace_id)
    spec = api.get("/openapi.json").json()
    failures: list[str] = []
    walked = 0
    with_b_data: set[str] = set()
    for method, path, op in operations(spec):
        params = re.findall(r"{(\w+)}", path)
        if not params:
            continue
        id_like = [p for p in params if p.endswith("_id") or p in ("id", "number")]
        if not id_like and method in ("put", "post"):
            continue  # create-or-replace by name (e.g. PUT /ai/intents/{name}) is legitimate
        url = path
        for name in params:
            ids = [i for i in _table_for(name, b_tables) if i not in _table_for(name, a_tables)]
            if name == "number" and "flow_id" in with_b_data:
                ids = [1]  # B's flow has a version 1
            value = ids[-1] if ids else ("vip" if name == "tag" else 987654321)
            if ids:
                with_b_data.add(name)
            url = url.replace("{" + name + "}", str(value))
        kind, body = request_body(spec, op)
        kwargs: dict[str, Any] = {}
        if kind == "json":
            kwargs["json"] = body
        elif kind == "multipart":
            kwargs["files"] = {k: ("x", b"x") for k in (body or {})}
        res = api.request(method.upper(), url, **kwargs)
        walked += 1
        if res.status_code != 404:
            failures.append(
                f"{method.upper()} {url} ({path}) -> {res.status_code} {res.text[:200]}"
            )
    assert walked >= 20
    # The walk used B's own rows for every id in a path (routes added later included), not
    # ids that exist nowhere; only these name something that is not a row of a workspace.
    not_rows = {"media_id", "name", "tag"}  # a provider's media id, an intent name, a tag
    id_params = {p for _, path, _ in operations(spec) for p in re.findall(r"{(\w+)}", path)}
    assert id_params - not_rows <= with_b_data, sorted(id_params - not_rows - with_b_data)
    print("params checked against B's own rows:", sorted(with_b_data))
    assert not failures, "\n".join(failures)
    # B's data is untouched by A's attempts (deletes included)
    hb = {"Authorization": f"Bearer {key_b}"}
    assert api.get("/api/v1/contacts", headers=hb).json()["items"][0]["name"] == MARK


def test_no_list_shows_another_workspaces_data(api: TestClient, cauce: Cauce, demo: Any) -> None:
    with cauce.transaction() as session:
        ws_b = create_workspace(session, "other", "Other", cauce.clock.now())
        key_b = create_api_key(session, ws_b.id, "b", cauce.clock.now(), role="owner").key
    _seed(api, key_b, MARK)
    _seed(api, demo.api_key, "aaa")
    spec = api.get("/openapi.json").json()
    leaks = []
    checked = 0
    for method, path, _op in operations(spec):
        if method != "get" or "{" in path:
            continue
        res = api.get(path)
        if res.status_code == 200:
            checked += 1
            if MARK in res.text:
                leaks.append(path)
    assert checked >= 10
    assert not leaks, leaks
    # and B really has the data
    hb = {"Authorization": f"Bearer {key_b}"}
    assert MARK in api.get("/api/v1/contacts", headers=hb).text
