"""Teams, assignment rules and the inbox API (every route) on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from cauce.ai.embedder import set_encoder
from cauce.clock import VirtualClock
from cauce.engine.types import EventIn, HandoffRequested
from cauce.runtime.ingest import submit_input
from cauce.services import flows, inbox
from cauce.services.auth import Principal, create_api_key
from cauce.services.container import Cauce
from cauce.services.messages import record_inbound
from cauce.services.workspaces import DemoCredentials, create_workspace
from cauce.store.models import (
    AuditEntry,
    Conversation,
    OutboxItem,
    RuntimeInput,
    RuntimeRun,
    Ticket,
)
from tests.support.inbox import BagOfWords, settle

_ids = itertools.count(1)


@pytest.fixture(autouse=True)
def _encoder() -> Iterator[None]:
    set_encoder(BagOfWords())
    yield
    set_encoder(None)


def _user(api: TestClient, name: str, role: str = "agent") -> int:
    res = api.post("/api/v1/users", json={"email": f"{name}@example.com", "role": role,
                                          "name": name.title(), "password": "secret-123"})
    assert res.status_code == 201, res.text
    return int(res.json()["id"])


def _login(api: TestClient, name: str) -> TestClient:
    browser = TestClient(api.app)
    res = browser.post("/api/v1/session", json={"email": f"{name}@example.com",
                                                "password": "secret-123"})
    assert res.status_code == 200, res.text
    browser.headers["X-CSRF-Token"] = res.json()["csrf_token"]
    return browser


def _contact(api: TestClient, phone: str = "+5491122334455", name: str = "Ana") -> int:
    res = api.post("/api/v1/contacts", json={"phone": phone, "name": name})
    assert res.status_code == 201, res.text
    return int(res.json()["id"])


def _wrote(cauce: Cauce, contact_id: int, text: str, ago: timedelta = timedelta(0)) -> str:
    """Store an inbound message; returns its provider id (the wamid)."""
    wamid = f"wamid.t{next(_ids)}"
    with cauce.transaction() as s:
        record_inbound(s, workspace_id=1, contact_id=contact_id, channel_kind="whatsapp",
                       channel_id=None, provider_id=wamid, kind="text",
                       content={"text": text}, received_at=cauce.clock.now() - ago)
    return wamid


def _handoff(cauce: Cauce, contact_id: int, workspace_id: int = 1, **config: Any) -> int:
    """Apply a handoff as the runtime's handler does (for a run that is not in the store)."""
    n = next(_ids)
    config.setdefault("include_transcript", True)  # the step's default
    event = HandoffRequested(activity_id=f"act-{n}", node_id="humano", **config)
    with cauce.transaction() as s:
        done = inbox.apply_handoff(s, workspace_id, contact_id, f"run-{n}", event,
                                   cauce.clock.now())
        return done.conversation.id


def _conv(api: TestClient, conv_id: int) -> dict[str, Any]:
    res = api.get(f"/api/v1/inbox/conversations/{conv_id}")
    assert res.status_code == 200, res.text
    body: dict[str, Any] = res.json()
    return body


# ------------------------------------------------------------------------------------ teams


def test_team_crud_validation_and_roles(api: TestClient) -> None:
    laura, pablo = _user(api, "laura"), _user(api, "pablo")
    created = api.post("/api/v1/teams", json={"name": "ventas", "assignment": "least_open",
                                              "member_ids": [laura, laura, pablo]})
    assert created.status_code == 201, created.text
    team = created.json()
    assert team["member_ids"] == [laura, pablo] and team["assignment"] == "least_open"
    assert api.post("/api/v1/teams", json={"name": "Ventas"}).json()["error"]["code"] == \
        "conflict"
    bad = api.post("/api/v1/teams", json={"name": "x", "member_ids": [987654]})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "member_ids"
    assert api.post("/api/v1/teams", json={"name": "x", "assignment": "random"}).status_code \
        == 422
    patched = api.patch(f"/api/v1/teams/{team['id']}", json={"member_ids": [pablo],
                                                               "assignment": "manual"})
    assert patched.status_code == 200 and patched.json()["member_ids"] == [pablo]
    assert patched.json()["assignment"] == "manual"
    assert api.get(f"/api/v1/teams/{team['id']}").json()["name"] == "ventas"
    page = api.get("/api/v1/teams", params={"limit": 1}).json()
    assert [t["id"] for t in page["items"]] == [team["id"]] and page["next_cursor"] is None
    agent = _login(api, "laura")
    assert agent.get("/api/v1/teams").status_code == 200
    assert agent.post("/api/v1/teams", json={"name": "mine"}).status_code == 403
    assert api.delete(f"/api/v1/teams/{team['id']}").status_code == 204
    assert api.get(f"/api/v1/teams/{team['id']}").status_code == 404
    assert api.get("/api/v1/teams/987654321").status_code == 404


# ------------------------------------------------------------------------------- assignment


def test_round_robin_cycles_through_active_members(api: TestClient, cauce: Cauce) -> None:
    a, b, c = _user(api, "ana"), _user(api, "beto"), _user(api, "caro")
    api.post("/api/v1/teams", json={"name": "soporte", "member_ids": [a, b, c]})
    api.patch(f"/api/v1/users/{c}", json={"disabled": True})
    got = [_conv(api, _handoff(cauce, _contact(api, f"+54911223344{i:02d}"),
                               team="soporte"))["assignee_id"] for i in range(5)]
    assert got == [a, b, a, b, a]


def test_least_open_picks_the_least_busy_member(api: TestClient, cauce: Cauce) -> None:
    a, b = _user(api, "ana"), _user(api, "beto")
    team = api.post("/api/v1/teams", json={"name": "ventas", "assignment": "least_open",
                                           "member_ids": [a, b]}).json()
    first = _handoff(cauce, _contact(api, "+5491100000001"), team=str(team["id"]))
    second = _handoff(cauce, _contact(api, "+5491100000002"), team="VENTAS")
    assert (_conv(api, first)["assignee_id"], _conv(api, second)["assignee_id"]) == (a, b)
    api.post(f"/api/v1/inbox/conversations/{first}/close", json={"resolution": "resolved"})
    third = _handoff(cauce, _contact(api, "+5491100000003"), team="ventas")
    assert _conv(api, third)["assignee_id"] == a  # ana has 0 open now, beto 1


def test_manual_team_missing_team_and_named_agent(api: TestClient, cauce: Cauce) -> None:
    a = _user(api, "ana")
    manual = api.post("/api/v1/teams", json={"name": "cola", "assignment": "manual",
                                             "member_ids": [a]}).json()
    queued = _conv(api, _handoff(cauce, _contact(api, "+5491100000001"), team="cola"))
    assert queued["assignee_id"] is None and queued["team_id"] == manual["id"]
    nowhere = _conv(api, _handoff(cauce, _contact(api, "+5491100000002"), team="nadie"))
    assert nowhere["assignee_id"] is None and nowhere["team_id"] is None
    named = _conv(api, _handoff(cauce, _contact(api, "+5491100000003"), team="cola",
                                agent="ana@example.com"))
    assert named["assignee_id"] == a and named["team_id"] == manual["id"]
    unknown = _conv(api, _handoff(cauce, _contact(api, "+5491100000004"), agent="ghost"))
    assert unknown["assignee_id"] is None
    events = api.get(f"/api/v1/inbox/conversations/{nowhere['id']}/transcript").json()
    assert any("team 'nadie' does not exist" in i["text"] for i in events["items"])


def test_a_second_handoff_reuses_the_open_conversation(api: TestClient, cauce: Cauce) -> None:
    contact = _contact(api)
    first = _handoff(cauce, contact, priority="low", note="primero")
    again = _handoff(cauce, contact, priority="urgent", note="segundo")
    assert first == again
    conv = _conv(api, first)
    assert conv["priority"] == "urgent" and conv["note"] == "segundo"
    assert len(conv["context"]["handoffs"]) == 2
    assert conv["ticket_id"] is not None  # urgent escalations are tickets too


# ----------------------------------------------------------------------------- list, read


def test_views_filters_and_pagination(api: TestClient, cauce: Cauce) -> None:
    a, b = _user(api, "ana"), _user(api, "beto")
    api.post("/api/v1/teams", json={"name": "ventas", "member_ids": [a]})
    api.post("/api/v1/teams", json={"name": "postventa", "member_ids": [b]})
    mine = _handoff(cauce, _contact(api, "+5491100000001", "Marta Gómez"), agent="ana")
    team = _handoff(cauce, _contact(api, "+5491100000002", "Juan"), team="postventa")
    loose = _handoff(cauce, _contact(api, "+5491100000003", "Pedro"), priority="high")

    def ids(client: TestClient, **params: Any) -> list[int]:
        res = client.get("/api/v1/inbox/conversations", params=params)
        assert res.status_code == 200, res.text
        return [c["id"] for c in res.json()["items"]]

    assert ids(api) == [mine, team, loose]
    assert ids(api, view="unassigned") == [loose]
    ana, beto = _login(api, "ana"), _login(api, "beto")
    assert ids(ana, view="mine") == [mine] and ids(beto, view="mine") == [team]
    assert ids(ana, view="team") == [] and ids(beto, view="team") == [team]
    moved = api.post(f"/api/v1/inbox/conversations/{team}/transfer", json={"team_id": 1})
    assert moved.status_code == 200, moved.text
    assert ids(ana, view="mine") == [mine, team] and ids(ana, view="team") == [team]
    assert ids(api, priority="high") == [loose]
    assert ids(api, q="gómez") == [mine] and ids(api, q="1100000003") == [loose]
    assert ids(api, team_id=1) == [team]
    assert ids(api, assignee_id=a) == [mine, team]
    api.post(f"/api/v1/inbox/conversations/{loose}/close", json={"resolution": "spam"})
    assert ids(api, status="closed") == [loose] and ids(api, status="open") == [mine, team]
    page = api.get("/api/v1/inbox/conversations", params={"limit": 2}).json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = api.get("/api/v1/inbox/conversations",
                   params={"limit": 2, "cursor": page["next_cursor"]}).json()
    assert [c["id"] for c in rest["items"]] == [loose] and rest["next_cursor"] is None
    keyed = api.get("/api/v1/inbox/conversations", params={"view": "mine"})
    assert keyed.status_code == 422 and keyed.json()["error"]["field"] == "view"
    assert api.get("/api/v1/inbox/conversations", params={"view": "x"}).status_code == 422
    assert api.get("/api/v1/inbox/conversations/987654321").status_code == 404


def test_transcript_has_messages_notes_and_events_in_order_and_pages(
    api: TestClient, cauce: Cauce, clock: VirtualClock
) -> None:
    contact = _contact(api)
    _wrote(cauce, contact, "Hola, quiero cambiar la dirección de entrega", timedelta(minutes=5))
    conv = _handoff(cauce, contact, note="Cambio de dirección")
    clock.advance(timedelta(minutes=1))
    note = api.post(f"/api/v1/inbox/conversations/{conv}/notes", json={"text": "Ver CP"})
    assert note.status_code == 201 and note.json()["kind"] == "note"
    clock.advance(timedelta(minutes=1))
    _wrote(cauce, contact, "Es calle Falsa 123")
    items = api.get(f"/api/v1/inbox/conversations/{conv}/transcript").json()["items"]
    assert [(i["kind"], i["text"]) for i in items] == [
        ("message", "Hola, quiero cambiar la dirección de entrega"),
        ("event", "waiting unassigned for an agent"),
        ("note", "Ver CP"),
        ("message", "Es calle Falsa 123"),
    ]
    assert items[0]["direction"] == "in" and items[2]["author_id"] is None  # an API key
    first = api.get(f"/api/v1/inbox/conversations/{conv}/transcript", params={"limit": 3}).json()
    assert len(first["items"]) == 3 and first["next_cursor"] == "3"
    last = api.get(f"/api/v1/inbox/conversations/{conv}/transcript",
                   params={"limit": 3, "cursor": "3"}).json()
    assert [i["text"] for i in last["items"]] == ["Es calle Falsa 123"]
    assert last["next_cursor"] is None
    far = api.get(f"/api/v1/inbox/conversations/{conv}/transcript",
                  params={"cursor": "9999999999999999999"})
    assert far.status_code == 200 and far.json() == {"items": [], "next_cursor": None}
    assert api.post(f"/api/v1/inbox/conversations/{conv}/notes",
                    json={"text": "  "}).status_code == 422


# ---------------------------------------------------------------------------------- reply


def test_reply_inside_the_window_is_queued_and_counts_the_first_response(
    api: TestClient, cauce: Cauce, clock: VirtualClock
) -> None:
    ana = _user(api, "ana")
    contact = _contact(api)
    _wrote(cauce, contact, "¿Tienen talle M?")
    conv = _handoff(cauce, contact)
    clock.advance(timedelta(seconds=90))
    agent = _login(api, "ana")
    res = agent.post(f"/api/v1/inbox/conversations/{conv}/reply", json={"text": "¡Sí, hay!"})
    assert res.status_code == 202, res.text
    assert res.json()["status"] == "queued" and res.json()["kind"] == "text"
    got = _conv(api, conv)
    assert got["first_response_seconds"] == 90 and got["assignee_id"] == ana
    assert got["window_open"] is True and got["last_message_at"] is not None
    with cauce.transaction() as s:
        (row,) = s.scalars(select(OutboxItem)).all()
        assert row.kind == "message_requested" and row.payload["payload"] == {"text": "¡Sí, hay!"}
        assert row.contact_id == contact and row.run_id is None
        actions = s.scalars(select(AuditEntry.action).where(
            AuditEntry.target == f"conversation:{conv}")).all()
        assert actions == ["conversation.replied"]
    items = api.get(f"/api/v1/inbox/conversations/{conv}/transcript").json()["items"]
    assert items[-1]["text"] == "¡Sí, hay!" and items[-1]["author_id"] == ana
    assert items[-1]["direction"] == "out"
    both = api.post(f"/api/v1/inbox/conversations/{conv}/reply",
                    json={"text": "a", "template": {"name": "x"}})
    assert both.status_code == 422
    assert api.post(f"/api/v1/inbox/conversations/{conv}/reply", json={}).status_code == 422


def test_outside_the_window_only_approved_templates(
    api: TestClient, cauce: Cauce, clock: VirtualClock
) -> None:
    contact = _contact(api)
    _wrote(cauce, contact, "Hola", timedelta(hours=2))
    conv = _handoff(cauce, contact)
    clock.advance(timedelta(hours=23))  # the contact wrote 25 hours ago
    assert _conv(api, conv)["window_open"] is False
    res = api.post(f"/api/v1/inbox/conversations/{conv}/reply", json={"text": "¿Seguís ahí?"})
    assert res.status_code == 409
    assert res.json()["error"]["code"] == "outside_window"
    assert "template" in res.json()["error"]["message"]
    sent = api.post(f"/api/v1/inbox/conversations/{conv}/reply", json={
        "template": {"name": "seguimiento", "language": "es", "variables": {"1": "Ana"}}})
    assert sent.status_code == 202, sent.text
    assert sent.json()["kind"] == "template"
    with cauce.transaction() as s:
        (row,) = s.scalars(select(OutboxItem)).all()
        assert row.payload["payload"] == {"name": "seguimiento", "language": "es",
                                          "body": ["Ana"]}


def test_whatsapp_templates_are_checked_against_the_numbers_registry(
    api: TestClient, cauce: Cauce
) -> None:
    from cauce.store.models import Channel

    contact = _contact(api)
    now = cauce.clock.now()
    with cauce.transaction() as s:
        channel = Channel(workspace_id=1, kind="whatsapp", name="Ventas", identifier="555",
                          created_at=now, updated_at=now)
        s.add(channel)
        s.flush()
        record_inbound(s, workspace_id=1, contact_id=contact, channel_kind="whatsapp",
                       channel_id=channel.id, provider_id="wamid.reg", kind="text",
                       content={"text": "hola"}, received_at=now - timedelta(days=2))
        from cauce.store.models import WhatsAppTemplate

        s.add(WhatsAppTemplate(workspace_id=1, channel_id=channel.id, name="aviso",
                               language="es_AR", status="approved", updated_at=now))
        s.add(WhatsAppTemplate(workspace_id=1, channel_id=channel.id, name="promo",
                               language="es", status="rejected", updated_at=now))
    conv = _handoff(cauce, contact)
    assert _conv(api, conv)["channel_kind"] == "whatsapp"

    def reply(name: str, language: str = "es") -> Any:
        return api.post(f"/api/v1/inbox/conversations/{conv}/reply",
                        json={"template": {"name": name, "language": language}})

    assert reply("nope").json()["error"]["field"] == "template.name"
    assert reply("promo").json()["error"]["message"].endswith("not approved")
    assert reply("aviso", "en").json()["error"]["field"] == "template.language"
    ok = reply("aviso")
    assert ok.status_code == 202, ok.text
    with cauce.transaction() as s:
        (row,) = s.scalars(select(OutboxItem)).all()
        assert row.channel == "Ventas"  # this very number, not the workspace's first


# ------------------------------------------------------------------- assign, transfer, close


def test_assign_take_and_transfer(api: TestClient, cauce: Cauce) -> None:
    a, b = _user(api, "ana"), _user(api, "beto")
    viewer = _user(api, "vera", role="viewer")
    team = api.post("/api/v1/teams", json={"name": "ventas", "member_ids": [b]}).json()
    conv = _handoff(cauce, _contact(api))
    url = f"/api/v1/inbox/conversations/{conv}"
    assert api.post(f"{url}/assign", json={"assignee_id": None}).status_code == 422
    assert api.post(f"{url}/assign", json={"assignee_id": 987654}).status_code == 422
    ana = _login(api, "ana")
    took = ana.post(f"{url}/assign", json={})
    assert took.status_code == 200 and took.json()["assignee_id"] == a
    assert api.post(f"{url}/assign", json={"assignee_id": b}).json()["assignee_id"] == b
    moved = api.post(f"{url}/transfer", json={"assignee_id": a})
    assert moved.status_code == 200 and moved.json()["assignee_id"] == a
    to_team = api.post(f"{url}/transfer", json={"team_id": team["id"]}).json()
    assert to_team["team_id"] == team["id"] and to_team["assignee_id"] == b
    assert api.post(f"{url}/transfer", json={}).status_code == 422
    assert api.post(f"{url}/transfer", json={"team_id": 987654}).status_code == 422
    assert _login(api, "vera").post(f"{url}/assign", json={}).status_code == 403
    assert viewer and _login(api, "vera").get(url).status_code == 200
    events = [i["text"] for i in api.get(f"{url}/transcript").json()["items"]
              if i["kind"] == "event"]
    assert events[1:] == [f"assigned to user {a}", f"assigned to user {b}",
                          f"transferred to user {a}",
                          f"transferred to team 'ventas', assigned to user {b}"]
    # The same events as data, for a UI to say in its own language.
    parts = [i["parts"] for i in api.get(f"{url}/transcript").json()["items"]
             if i["kind"] == "event"]
    assert parts[0][-1]["code"] in ("assigned_by_team", "waiting_in_team", "waiting_unassigned")
    assert parts[1:] == [[{"code": "assigned", "user": a}], [{"code": "assigned", "user": b}],
                         [{"code": "transferred_to_user", "user": a}],
                         [{"code": "transferred_to_team", "team": "ventas", "user": b}]]


def test_close_hands_the_run_back_once(api: TestClient, cauce: Cauce,
                                       clock: VirtualClock) -> None:
    contact = _contact(api)
    conv = _handoff(cauce, contact, priority="high")
    activity = _conv(api, conv)["context"]["handoffs"][0]["activity_id"]
    clock.advance(timedelta(minutes=30))
    res = api.post(f"/api/v1/inbox/conversations/{conv}/close",
                   json={"resolution": "unresolved", "note": "No contesta"})
    assert res.status_code == 200, res.text
    body = res.json()
    assert (body["status"], body["resolution"], body["resolution_seconds"]) == (
        "closed", "unresolved", 1800)
    with cauce.transaction() as s:
        (inp,) = s.scalars(select(RuntimeInput).where(RuntimeInput.kind == "activity")).all()
        assert inp.payload["activity_id"] == activity
        assert inp.payload["ok"] is True
        assert inp.payload["data"]["resolution"] == "unresolved"
        assert inp.payload["data"]["note"] == "No contesta"
        ticket = s.get(Ticket, body["ticket_id"])
        assert ticket is not None and ticket.status == "closed"
    url = f"/api/v1/inbox/conversations/{conv}"
    again = api.post(f"{url}/close", json={"resolution": "resolved"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "conversation_closed"
    assert api.post(f"{url}/reply", json={"text": "hola"}).status_code == 409
    assert api.post(f"{url}/close", json={"resolution": "no spaces"}).status_code == 422


# ----------------------------------------------------------- the bot pauses for the contact


def _publish(cauce: Cauce, nodes: list[dict[str, Any]], trigger: dict[str, Any]) -> int:
    document = {"format": 1, "metadata": {"name": "f", "language": "es"},
                "triggers": [trigger], "settings": {}, "nodes": nodes}
    principal = Principal(workspace_id=1, actor="user:1", role="owner")
    with cauce.transaction() as s:
        flow = flows.create_flow(s, principal, document, cauce.clock.now())
        flows.publish(s, principal, flow.id, cauce.clock.now())
        return flow.id


def _inbound(cauce: Cauce, contact: int, text: str) -> None:
    from cauce.engine.types import MessageIn

    wamid = _wrote(cauce, contact, text)
    with cauce.transaction() as s:  # as the inbound webhook does: the wamid is the message id
        submit_input(s, workspace_id=1, contact_id=contact, input=MessageIn(
            channel="whatsapp", text=text, message_id=wamid,
            received_at=cauce.clock.now()))


def test_the_bot_is_paused_while_the_conversation_is_open(
    api: TestClient, cauce: Cauce, demo: DemoCredentials
) -> None:
    contact = _contact(api)
    handoff = _publish(cauce, [
        {"id": "humano", "type": "handoff", "config": {"priority": "normal"},
         "exits": {"returned": "fin", "failed": None}},
        {"id": "fin", "type": "add_tag", "config": {"tags": ["atendido"]},
         "exits": {"next": None}},
    ], {"type": "business_event", "event": "ayuda"})
    keyword = _publish(cauce, [
        {"id": "tag", "type": "add_tag", "config": {"tags": ["precios"]},
         "exits": {"next": None}},
    ], {"type": "inbound_message", "match": "keyword", "keywords": ["precio"]})
    with cauce.transaction() as s:
        submit_input(s, workspace_id=1, contact_id=contact,
                     input=EventIn(name="ayuda", occurred_at=cauce.clock.now()))
    settle(cauce)
    (conv,) = api.get("/api/v1/inbox/conversations").json()["items"]
    assert conv["run_id"] is not None and conv["context"]["flow_id"] == handoff
    _inbound(cauce, contact, "¿precio del plan?")
    settle(cauce)
    with cauce.transaction() as s:
        flows_run = {r.flow_id for r in s.scalars(select(RuntimeRun))}
    assert flows_run == {handoff}  # the keyword flow did not start
    api.post(f"/api/v1/inbox/conversations/{conv['id']}/close", json={"resolution": "resolved"})
    settle(cauce)
    with cauce.transaction() as s:
        run = s.get(RuntimeRun, conv["run_id"])
        assert run is not None and run.status == "completed", run.state if run else None
        assert run.state["results"]["humano"]["resolution"] == "resolved"
    assert api.get(f"/api/v1/contacts/{contact}").json()["tags"] == ["atendido"]
    _inbound(cauce, contact, "¿precio del plan?")
    settle(cauce)
    with cauce.transaction() as s:
        assert keyword in {r.flow_id for r in s.scalars(select(RuntimeRun))}


@pytest.mark.parametrize("same_batch", [False, True], ids=["next-batch", "same-batch"])
def test_a_message_before_the_conversation_opens_is_the_agents(
    api: TestClient, cauce: Cauce, demo: DemoCredentials, same_batch: bool
) -> None:
    """The bot pauses when the handoff step commits, not when delivery opens the conversation:
    a message processed in between (in a later batch, or later in the same batch) starts no
    flow and opens the conversation's transcript."""
    from cauce.runtime.engine_port import default_engine
    from cauce.runtime.processor import Processor

    contact = _contact(api)
    _wrote(cauce, contact, "Hola, necesito ayuda")  # before the handoff: the bot's part
    handoff = _publish(cauce, [
        {"id": "humano", "type": "handoff",
         "config": {"priority": "normal", "include_transcript": False},
         "exits": {"returned": None, "failed": None}},
    ], {"type": "business_event", "event": "ayuda"})
    _publish(cauce, [
        {"id": "tag", "type": "add_tag", "config": {"tags": ["precios"]},
         "exits": {"next": None}},
    ], {"type": "inbound_message", "match": "keyword", "keywords": ["precio"]})
    with cauce.transaction() as s:
        submit_input(s, workspace_id=1, contact_id=contact,
                     input=EventIn(name="ayuda", occurred_at=cauce.clock.now()))
    processor = Processor(cauce, default_engine())
    if not same_batch:
        while processor.process_batch():
            pass
        with cauce.transaction() as s:  # the step is committed, its delivery has not run
            assert s.scalars(select(Conversation)).all() == []
            assert [r.kind for r in s.scalars(select(OutboxItem))] == ["handoff_requested"]
            assert inbox.paused_contacts(s, [contact]) == {contact}
    _inbound(cauce, contact, "¿precio del plan?")
    while processor.process_batch():
        pass
    with cauce.transaction() as s:
        assert {r.flow_id for r in s.scalars(select(RuntimeRun))} == {handoff}
        assert s.scalars(select(RuntimeInput.status)).all() == ["done", "done"]
    assert "precios" not in api.get(f"/api/v1/contacts/{contact}").json()["tags"]
    settle(cauce)  # delivery opens the conversation
    (conv,) = api.get("/api/v1/inbox/conversations").json()["items"]
    items = api.get(f"/api/v1/inbox/conversations/{conv['id']}/transcript").json()["items"]
    assert [i["text"] for i in items if i["kind"] == "message"] == ["¿precio del plan?"]
    api.post(f"/api/v1/inbox/conversations/{conv['id']}/close", json={"resolution": "resolved"})
    settle(cauce)
    with cauce.transaction() as s:
        assert inbox.paused_contacts(s, [contact]) == set()


def test_a_handoff_whose_run_moved_on_opens_nothing(api: TestClient, cauce: Cauce) -> None:
    from cauce.runtime.delivery import Attempt
    from cauce.runtime.effects.handoff import HandoffHandler

    contact = _contact(api)
    event = HandoffRequested(activity_id="gone", node_id="humano")
    attempt = Attempt(id=1, workspace_id=1, contact_id=contact, run_id="no-such-run",
                      key="gone", kind="handoff_requested", channel="",
                      payload=event.model_dump(mode="json"), attempts=1)
    with cauce.transaction() as s:
        outcome = HandoffHandler().route(s, attempt)
        assert not isinstance(outcome, tuple)
        assert getattr(outcome, "code", None) == "not_waiting"
        assert s.scalars(select(Conversation)).all() == []


# -------------------------------------------------------------------------------- isolation


def test_another_workspaces_conversations_and_teams_are_404(api: TestClient,
                                                            cauce: Cauce) -> None:
    with cauce.transaction() as s:
        ws_b = create_workspace(s, "other", "Other", cauce.clock.now())
        key_b = create_api_key(s, ws_b.id, "b", cauce.clock.now(), role="owner").key
        b_id = ws_b.id
    hb = {"Authorization": f"Bearer {key_b}"}
    made = api.post("/api/v1/contacts", json={"phone": "+5491122339999", "name": "zzb"},
                    headers=hb)
    assert made.status_code == 201, made.text
    b_contact = made.json()["id"]
    b_team = api.post("/api/v1/teams", json={"name": "zzb"}, headers=hb).json()["id"]
    b_conv = _handoff(cauce, b_contact, workspace_id=b_id, team="zzb")
    url = f"/api/v1/inbox/conversations/{b_conv}"
    for method, path, body in [
        ("GET", url, None), ("GET", f"{url}/transcript", None),
        ("POST", f"{url}/reply", {"text": "x"}), ("POST", f"{url}/notes", {"text": "x"}),
        ("POST", f"{url}/assign", {"assignee_id": 1}),
        ("POST", f"{url}/transfer", {"assignee_id": 1}),
        ("POST", f"{url}/close", {"resolution": "resolved"}),
        ("GET", f"/api/v1/teams/{b_team}", None), ("PATCH", f"/api/v1/teams/{b_team}", {}),
        ("DELETE", f"/api/v1/teams/{b_team}", None),
    ]:
        res = api.request(method, path, json=body)
        assert res.status_code == 404, (method, path, res.text)
    assert "zzb" not in api.get("/api/v1/inbox/conversations").text
    assert "zzb" not in api.get("/api/v1/teams").text
    # A's transfer cannot reach B's team either.
    a_conv = _handoff(cauce, _contact(api))
    moved = api.post(f"/api/v1/inbox/conversations/{a_conv}/transfer",
                     json={"team_id": b_team})
    assert moved.status_code == 422
    assert api.get(url, headers=hb).json()["team_id"] == b_team


def test_a_flows_inbox_note_lands_on_the_open_conversation(api: TestClient,
                                                           cauce: Cauce) -> None:
    contact = _contact(api)
    conv = _handoff(cauce, contact)
    _publish(cauce, [
        {"id": "nota", "type": "notify_team",
         "config": {"target": "inbox", "text": "Pagó el pedido {{ trigger.data.order }}"},
         "exits": {"next": None, "failed": None}},
    ], {"type": "business_event", "event": "order.paid"})
    with cauce.transaction() as s:  # business events still run while the bot is paused
        submit_input(s, workspace_id=1, contact_id=contact, input=EventIn(
            name="order.paid", data={"order": "4521"}, occurred_at=cauce.clock.now()))
    settle(cauce)
    items = api.get(f"/api/v1/inbox/conversations/{conv}/transcript").json()["items"]
    assert [i["text"] for i in items if i["kind"] == "note"] == ["Pagó el pedido 4521"]
    with cauce.transaction() as s:
        assert s.scalars(select(AuditEntry).where(
            AuditEntry.action == "flow.team_note")).all() == []
