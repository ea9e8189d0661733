"""End to end: a signed WhatsApp message starts a published flow that hands the conversation
to an agent; the agent finds it in the inbox, replies through the inbox API (a real send at the
fake Graph API), closes it as resolved, and the flow resumes and asks the CSAT question."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from cauce.ai.embedder import set_encoder
from cauce.channels import registry
from cauce.clock import VirtualClock
from cauce.services.container import Cauce
from cauce.store.models import RuntimeRun, Ticket
from tests.channels.support import connect_whatsapp, post_signed, webhook_outcome
from tests.support.fakes.graph_api import FakeGraphApi
from tests.support.inbox import BagOfWords, inbound_text, settle

CSAT = "¿Cómo calificarías la atención que recibiste?"

FLOW: dict[str, Any] = {
    "format": 1,
    "metadata": {"name": "Soporte con persona", "language": "es"},
    "triggers": [{"type": "inbound_message", "match": "keyword", "keywords": ["ayuda"]}],
    "settings": {"stop_on_reply": True},
    "nodes": [
        {"id": "aviso", "type": "whatsapp_text",
         "config": {"text": "Te paso con una persona del equipo."},
         "exits": {"next": "humano", "failed": "humano"}},
        {"id": "humano", "type": "handoff",
         "config": {"team": "soporte", "priority": "high",
                    "note": "Cliente pide ayuda con un pedido"},
         "exits": {"returned": "csat", "failed": None}},
        {"id": "csat", "type": "whatsapp_buttons",
         "config": {"body": CSAT, "buttons": [
             {"id": "bien", "title": "Muy bien"}, {"id": "regular", "title": "Regular"},
             {"id": "mal", "title": "Mal"}], "timeout": "1d",
             # An agent may close days later: outside the window the survey is a template.
             "fallback_template": {"name": "encuesta_csat", "language": "es"}},
         "exits": {"bien": None, "regular": None, "mal": None, "replied": None,
                   "timeout": None, "failed": None}},
    ],
}


@pytest.fixture
def graph() -> Iterator[FakeGraphApi]:
    with FakeGraphApi() as server:
        yield server  # type: ignore[misc]
    registry.close_all()


@pytest.fixture(autouse=True)
def _encoder() -> Iterator[None]:
    set_encoder(BagOfWords())
    yield
    set_encoder(None)


def _agent_client(client: TestClient, email: str, password: str) -> TestClient:
    """A second browser: the agent logged in with a session cookie."""
    agent = TestClient(client.app)
    res = agent.post("/api/v1/session", json={"email": email, "password": password})
    assert res.status_code == 200, res.text
    agent.headers["X-CSRF-Token"] = res.json()["csrf_token"]
    return agent


def test_whatsapp_handoff_reply_close_and_csat(api: TestClient, cauce: Cauce,
                                               clock: VirtualClock, graph: FakeGraphApi) -> None:
    connect_whatsapp(api, graph.url)
    user = api.post("/api/v1/users", json={"email": "laura@example.com", "role": "agent",
                                           "name": "Laura", "password": "laura-1234"}).json()
    team = api.post("/api/v1/teams", json={"name": "soporte", "assignment": "round_robin",
                                           "member_ids": [user["id"]]})
    assert team.status_code == 201, team.text
    flow = api.post("/api/v1/flows", json={"document": FLOW}).json()
    published = api.post(f"/api/v1/flows/{flow['id']}/publish", json={"note": "v1"})
    assert published.status_code == 201, published.text

    # 1. The customer writes; the flow answers and hands the conversation over.
    first = post_signed(api, inbound_text("Necesito ayuda, mi pedido 4521 no llegó todavía.",
                                           clock.now(), "wamid.in.1"))
    assert first.status_code == 200, first.text
    assert webhook_outcome(api, first)["messages"] == 1
    settle(cauce)
    sent = graph.sent_bodies()
    assert [b["type"] for b in sent] == ["text"], sent
    assert sent[0]["to"] == "5491122334455"
    assert sent[0]["text"]["body"] == "Te paso con una persona del equipo."

    # 2. The agent finds it in their inbox, assigned by the team's round robin.
    agent = _agent_client(api, "laura@example.com", "laura-1234")
    mine = agent.get("/api/v1/inbox/conversations", params={"view": "mine", "status": "open"})
    assert mine.status_code == 200, mine.text
    (conv,) = mine.json()["items"]
    assert conv["assignee_id"] == user["id"] and conv["team_id"] == team.json()["id"]
    assert conv["priority"] == "high" and conv["note"] == "Cliente pide ayuda con un pedido"
    assert conv["contact"]["phone"] == "+5491122334455" and conv["window_open"] is True
    assert "4521" in conv["summary"]  # the AI summary keeps the order number
    assert conv["ticket_id"] is not None  # a high-priority handoff is also a ticket
    transcript = agent.get(f"/api/v1/inbox/conversations/{conv['id']}/transcript").json()
    texts = [(i["kind"], i["direction"], i["text"]) for i in transcript["items"]]
    assert ("message", "in", "Necesito ayuda, mi pedido 4521 no llegó todavía.") in texts
    assert ("message", "out", "Te paso con una persona del equipo.") in texts

    # 3. While the agent has it, the customer's messages start no flow (not even "ayuda").
    clock.advance(timedelta(minutes=2))
    post_signed(api, inbound_text("ayuda? sigo esperando", clock.now(), "wamid.in.2"))
    settle(cauce)
    assert len(graph.sent_bodies()) == 1
    with cauce.transaction() as s:
        (run,) = s.scalars(select(RuntimeRun)).all()
        assert run.status == "waiting" and run.state["node_id"] == "humano"

    # 4. The agent replies through the inbox: a real WhatsApp send.
    clock.advance(timedelta(minutes=3))
    reply = agent.post(f"/api/v1/inbox/conversations/{conv['id']}/reply",
                       json={"text": "Hola Ana, soy Laura. Tu pedido sale hoy."})
    assert reply.status_code == 202, reply.text
    settle(cauce)
    sent = graph.sent_bodies()
    assert len(sent) == 2 and sent[1]["type"] == "text", sent
    assert sent[1]["to"] == "5491122334455"
    assert sent[1]["text"]["body"] == "Hola Ana, soy Laura. Tu pedido sale hoy."
    got = agent.get(f"/api/v1/inbox/conversations/{conv['id']}").json()
    assert got["first_response_seconds"] == 300  # handoff to first reply, on the flow clock

    # 5. Closing as resolved hands the run back: the flow asks the CSAT question.
    clock.advance(timedelta(minutes=10))
    closed = agent.post(f"/api/v1/inbox/conversations/{conv['id']}/close",
                        json={"resolution": "resolved", "note": "Despachado"})
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed" and closed.json()["resolution"] == "resolved"
    assert closed.json()["resolution_seconds"] == 900
    settle(cauce)
    sent = graph.sent_bodies()
    assert len(sent) == 3, sent
    csat = sent[2]
    assert csat["to"] == "5491122334455" and csat["type"] == "interactive"
    assert csat["interactive"]["type"] == "button"
    assert csat["interactive"]["body"]["text"] == CSAT
    assert [b["reply"]["title"] for b in csat["interactive"]["action"]["buttons"]] == [
        "Muy bien", "Regular", "Mal"]
    with cauce.transaction() as s:
        (run,) = s.scalars(select(RuntimeRun)).all()
        assert run.state["node_id"] == "csat"
        assert run.state["results"]["humano"]["resolution"] == "resolved"
        ticket = s.get(Ticket, conv["ticket_id"])
        assert ticket is not None and ticket.status == "solved"
