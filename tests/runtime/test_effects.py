"""Other areas' effects delivered by the runtime (``cauce.runtime.effects``): real flows,
published through ``services.flows``, run by the processor with the product's engine and
delivered by ``Delivery`` with the registered handlers. Also the engine adapter's delivery
report routing and saving state changes that come without events."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from cauce.ai.embedder import Vector, set_encoder
from cauce.engine.types import (
    Context,
    DeliveryStatus,
    EventIn,
    Input,
    RunState,
    Step,
)
from cauce.runtime.delivery import HANDLERS, Delivery, Handler
from cauce.runtime.effects.notify import NOTE_ACTION, NotificationHandler
from cauce.runtime.engine_adapter import CauceEngine
from cauce.runtime.engine_port import default_engine
from cauce.runtime.handlers import ResolvedChannel, default_directory, install_default_handlers
from cauce.runtime.ingest import submit_input
from cauce.runtime.processor import Processor
from cauce.services import flows, pipelines
from cauce.services.auth import Principal
from cauce.services.container import Cauce
from cauce.services.messages import record_inbound
from cauce.services.opportunities import OpportunityIn, create_opportunity
from cauce.store.models import (
    AiDecisionLog,
    AuditEntry,
    Contact,
    Opportunity,
    OpportunityChange,
    OutboxItem,
    PipelineStage,
    RuntimeRun,
    Ticket,
)
from tests.runtime.support import make_contacts, make_workspace
from tests.support.fakes.http import FakeServer

EFFECT_KINDS = ("ai_requested", "ticket_requested", "opportunity_update_requested",
                "notification_requested")


class BagOfWords:
    """A deterministic stand-in for the sentence encoder: hashed word counts, normalised."""

    name = "bag-of-words"
    version = "test"

    def encode(self, texts: Sequence[str]) -> Vector:
        out = np.zeros((len(texts), 512), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[i, int(hashlib.sha1(word.encode()).hexdigest(), 16) % 512] += 1.0
            norm = float(np.linalg.norm(out[i]))
            if norm:
                out[i] /= norm
        return out


@pytest.fixture(autouse=True)
def _encoder() -> Iterator[None]:
    set_encoder(BagOfWords())
    yield
    set_encoder(None)


def _handlers(**override: Handler) -> dict[str, Handler]:
    install_default_handlers()
    return {**HANDLERS, **override}


def _publish(cauce: Cauce, ws: int, nodes: list[dict[str, Any]], event: str = "go") -> int:
    document = {
        "format": 1, "metadata": {"name": f"effects {event}", "language": "es"},
        "triggers": [{"type": "business_event", "event": event}], "settings": {},
        "nodes": nodes,
    }
    principal = Principal(workspace_id=ws, actor="user:1", role="owner")
    now = cauce.clock.now()
    with cauce.transaction() as s:
        flow = flows.create_flow(s, principal, document, now)
        flows.publish(s, principal, flow.id, now)
        return flow.id


def _submit(cauce: Cauce, ws: int, contact: int, inp: Input) -> None:
    with cauce.transaction() as s:
        submit_input(s, workspace_id=ws, contact_id=contact, input=inp)


def _go(cauce: Cauce, ws: int, contact: int, event: str = "go", **data: Any) -> None:
    _submit(cauce, ws, contact, EventIn(name=event, data=data, occurred_at=cauce.clock.now()))


def _pending(cauce: Cauce, outbox: bool = True) -> int:
    from datetime import UTC, datetime

    from cauce.store.models import RuntimeInput

    with cauce.transaction() as s:
        inputs = s.scalars(select(RuntimeInput.id).where(RuntimeInput.status == "pending"))
        ready = s.scalars(select(OutboxItem.id).where(
            OutboxItem.status == "pending", OutboxItem.next_attempt_at <= datetime.now(UTC)))
        return len(inputs.all()) + (len(ready.all()) if outbox else 0)


def _drain(processor: Processor, cauce: Cauce) -> None:
    """Process until no input is pending (an input whose contact another thread holds for a
    moment is retried)."""
    for _ in range(500):
        while processor.process_batch():
            pass
        if not _pending(cauce, outbox=False):
            return
        time.sleep(0.01)


def _settle(cauce: Cauce, handlers: dict[str, Handler]) -> None:
    """Process inputs and deliver the outbox until both are quiet."""
    processor = Processor(cauce, default_engine())
    delivery = Delivery(cauce, handlers=handlers)
    try:
        for _ in range(500):
            _drain(processor, cauce)
            if not delivery.deliver_batch() and not _pending(cauce):
                return
    finally:
        delivery.close()


def _outbox(cauce: Cauce, kind: str) -> list[OutboxItem]:
    with cauce.transaction() as s:
        return list(s.scalars(select(OutboxItem).where(OutboxItem.kind == kind)
                              .order_by(OutboxItem.id)))


def _redeliver(cauce: Cauce, kind: str, handlers: dict[str, Handler]) -> None:
    """Put the kind's rows back as if the record step had been lost, and deliver again."""
    with cauce.transaction() as s:
        s.execute(update(OutboxItem).where(OutboxItem.kind == kind)
                  .values(status="pending", attempts=0))
    _settle(cauce, handlers)


def _debug(cauce: Cauce) -> list[Any]:
    from cauce.store.models import RuntimeInput

    with cauce.transaction() as s:
        return [(i.kind, i.status, i.error) for i in s.scalars(select(RuntimeInput))] + [
            (o.kind, o.status, o.last_error, o.next_attempt_at) for o in s.scalars(
                select(OutboxItem))]


def _tags(cauce: Cauce, contact: int) -> list[str]:
    with cauce.transaction() as s:
        row = s.get(Contact, contact)
        assert row is not None
        return list(row.tags)


def _run(cauce: Cauce, contact: int) -> RuntimeRun:
    with cauce.transaction() as s:
        (run,) = s.scalars(select(RuntimeRun).where(RuntimeRun.contact_id == contact)).all()
        return run


def test_effect_handlers_are_registered_with_the_built_in_ones() -> None:
    install_default_handlers()
    assert set(EFFECT_KINDS) <= set(HANDLERS)


# ------------------------------------------------------------------------------------ AI


def test_ai_classify_takes_the_intent_exit_and_records_the_decision(cauce: Cauce) -> None:
    ws = make_workspace(cauce)
    (contact,) = make_contacts(cauce, ws, 1)
    _publish(cauce, ws, [
        {"id": "classify", "type": "ai_classify_intent",
         "config": {"text": "{{ trigger.data.text }}", "save_as": "intent", "intents": [
             {"name": "buy", "examples": ["quiero comprar", "precio de las zapatillas"],
              "keywords": ["comprar"]},
             {"name": "support", "examples": ["no funciona", "no puedo entrar"],
              "keywords": ["no funciona"]}]},
         "exits": {"buy": "tag_buy", "support": "tag_support", "unsure": "tag_unsure"}},
        {"id": "tag_buy", "type": "add_tag", "config": {"tags": ["buy"]},
         "exits": {"next": None}},
        {"id": "tag_support", "type": "add_tag", "config": {"tags": ["support"]},
         "exits": {"next": None}},
        {"id": "tag_unsure", "type": "add_tag", "config": {"tags": ["unsure"]},
         "exits": {"next": None}},
    ])
    _go(cauce, ws, contact, text="hola, quiero comprar unas zapatillas")
    handlers = _handlers()
    _settle(cauce, handlers)
    assert _tags(cauce, contact) == ["buy"]
    (item,) = _outbox(cauce, "ai_requested")
    assert item.status == "done"
    with cauce.transaction() as s:
        (decision,) = s.scalars(select(AiDecisionLog)).all()
        assert (decision.operation, decision.result, decision.node_id) == (
            "classify_intent", "buy", "classify")
        assert decision.run_id == item.run_id and decision.contact_id == contact
    assert _run(cauce, contact).state["results"]["intent"]["intent"] == "buy"
    # Delivered again (the record step lost): the run has moved on, so nothing is re-asked.
    _redeliver(cauce, "ai_requested", handlers)
    with cauce.transaction() as s:
        assert len(s.scalars(select(AiDecisionLog)).all()) == 1
    assert _tags(cauce, contact) == ["buy"]


def test_ai_summarize_reads_the_conversation_transcript(cauce: Cauce) -> None:
    ws = make_workspace(cauce)
    (contact,) = make_contacts(cauce, ws, 1)
    with cauce.transaction() as s:
        for text in ("Hola, mi pedido 1234 no llegó", "Lo pedí hace dos semanas a Rosario"):
            record_inbound(s, workspace_id=ws, contact_id=contact, channel_id=None,
                           channel_kind="whatsapp",
                           provider_id=f"wamid.{len(text)}", kind="text",
                           content={"text": text}, received_at=cauce.clock.now())
    _publish(cauce, ws, [
        {"id": "sum", "type": "ai_summarize", "config": {"save_as": "summary"},
         "exits": {"next": None, "failed": None}},
    ])
    _go(cauce, ws, contact)
    _settle(cauce, _handlers())
    summary = _run(cauce, contact).state["results"]["summary"]["summary"]
    assert "1234" in summary or "Rosario" in summary, summary


def test_a_bad_ai_configuration_takes_the_failure_path(cauce: Cauce) -> None:
    ws = make_workspace(cauce)
    (contact,) = make_contacts(cauce, ws, 1)
    _publish(cauce, ws, [
        {"id": "sum", "type": "ai_summarize",
         "config": {"scope": "text", "text": "algo", "save_as": "summary"},
         "exits": {"next": "ok", "failed": "bad"}},
        {"id": "ok", "type": "add_tag", "config": {"tags": ["ok"]}, "exits": {"next": None}},
        {"id": "bad", "type": "add_tag", "config": {"tags": ["bad"]}, "exits": {"next": None}},
    ])
    from cauce.runtime.effects.ai import AiHandler

    class BadLanguage(AiHandler):
        """A configuration the AI refuses (a language it does not summarize in)."""

        def route(self, session: Any, item: Any) -> Any:
            route = super().route(session, item)
            if hasattr(route, "data"):
                event = route.data["event"]
                route.data["event"] = event.model_copy(
                    update={"config": {**event.config, "language": "fr"}})
            return route

    _go(cauce, ws, contact)
    _settle(cauce, _handlers(ai_requested=BadLanguage()))
    assert _tags(cauce, contact) == ["bad"], _debug(cauce)
    (item,) = _outbox(cauce, "ai_requested")
    assert item.status == "done"


# ------------------------------------------------------------------------------ tickets


def test_create_ticket_from_a_flow_once_with_the_transcript(cauce: Cauce) -> None:
    ws = make_workspace(cauce)
    (contact,) = make_contacts(cauce, ws, 1)
    with cauce.transaction() as s:
        record_inbound(s, workspace_id=ws, contact_id=contact, channel_id=None,
                       channel_kind="whatsapp",
                       provider_id="wamid.1", kind="text", content={"text": "Quiero un reembolso"},
                       received_at=cauce.clock.now())
    flow_id = _publish(cauce, ws, [
        {"id": "ticket", "type": "create_ticket",
         "config": {"subject": "Reembolso de {{ contact.name }}", "priority": "high",
                    "team": "soporte"},
         "exits": {"next": None, "failed": None}},
    ])
    _go(cauce, ws, contact)
    handlers = _handlers()
    _settle(cauce, handlers)
    (item,) = _outbox(cauce, "ticket_requested")
    assert item.status == "done", item.last_error
    with cauce.transaction() as s:
        (ticket,) = s.scalars(select(Ticket)).all()
        assert (ticket.subject, ticket.priority, ticket.team, ticket.contact_id) == (
            "Reembolso de C0", "high", "soporte", contact)
        assert ticket.key == item.key and ticket.source == "flow"
        assert [e["text"] for e in ticket.transcript] == ["Quiero un reembolso"]
        assert ticket.context["flow_id"] == flow_id and ticket.context["node_id"] == "ticket"
    _redeliver(cauce, "ticket_requested", handlers)
    with cauce.transaction() as s:
        assert len(s.scalars(select(Ticket)).all()) == 1
    assert _outbox(cauce, "ticket_requested")[0].status == "done"


# ------------------------------------------------------------------------ opportunities


def test_update_opportunity_moves_the_stage_once(cauce: Cauce) -> None:
    ws = make_workspace(cauce)
    (contact,) = make_contacts(cauce, ws, 1)
    now = cauce.clock.now()
    with cauce.transaction() as s:
        pipelines.create_pipeline(s, ws, "Ventas", ["Nuevo", "Propuesta", "Cerrado"], now)
        opp = create_opportunity(s, ws, OpportunityIn(contact_id=contact, pipeline="Ventas"),
                                 now, actor="user:1")
        opp_id = opp.id
    _publish(cauce, ws, [
        {"id": "move", "type": "update_opportunity",
         "config": {"stage": "Propuesta", "value": 1500},
         "exits": {"next": None}},
    ])
    _go(cauce, ws, contact)
    handlers = _handlers()
    _settle(cauce, handlers)
    (item,) = _outbox(cauce, "opportunity_update_requested")
    assert item.status == "done", item.last_error
    with cauce.transaction() as s:
        row = s.get(Opportunity, opp_id)
        assert row is not None
        stage = s.get(PipelineStage, row.stage_id)
        assert stage is not None and stage.name == "Propuesta" and row.value == 1500
        changes = s.scalars(select(OpportunityChange).where(
            OpportunityChange.opportunity_id == opp_id).order_by(OpportunityChange.id)).all()
        assert len(changes) == 2  # created, then moved by the run
        assert changes[1].actor == f"run:{item.run_id}"
    _redeliver(cauce, "opportunity_update_requested", handlers)
    with cauce.transaction() as s:
        assert len(s.scalars(select(OpportunityChange).where(
            OpportunityChange.opportunity_id == opp_id)).all()) == 2


def test_update_without_an_open_opportunity_is_a_dead_letter_saying_so(cauce: Cauce) -> None:
    ws = make_workspace(cauce)
    (contact,) = make_contacts(cauce, ws, 1)
    _publish(cauce, ws, [{"id": "move", "type": "update_opportunity",
                          "config": {"status": "won"}, "exits": {"next": None}}])
    _go(cauce, ws, contact)
    _settle(cauce, _handlers())
    (item,) = _outbox(cauce, "opportunity_update_requested")
    assert item.status == "dead" and item.last_error_code == "no_opportunity"
    assert "no open opportunity" in (item.last_error or "")


# ------------------------------------------------------------------------ notifications


class SlackHook(FakeServer):
    pass


def test_notify_team_posts_to_the_workspace_slack_channel(api: TestClient, cauce: Cauce) -> None:
    with SlackHook() as slack:
        created = api.post("/api/v1/channels", json={
            "kind": "slack", "name": "Equipo",
            "secrets": {"webhook_url": "https://hooks.slack.com/services/T0/B0/secret"}})
        assert created.status_code == 201, created.text
        contact = api.post("/api/v1/contacts", json={"phone": "+5491122334455",
                                                     "first_name": "Ana"}).json()["id"]
        ws = 1

        def loopback(session: Any, workspace_id: int, channel: str) -> ResolvedChannel | None:
            # The workspace's real channel and its decrypted config, with the hook pointed
            # at the loopback fake (the channel service only accepts hooks.slack.com).
            found = default_directory(session, workspace_id, channel)
            if found is None:
                return None
            assert found.config["webhook_url"] == "https://hooks.slack.com/services/T0/B0/secret"
            return ResolvedChannel(kind=found.kind, config={
                **found.config, "webhook_url": f"{slack.url}/hook", "allow_http": True},
                sender=found.sender)

        _publish(cauce, ws, [
            {"id": "tell", "type": "notify_team",
             "config": {"target": "slack", "subject": "Nuevo lead",
                        "text": "{{ contact.first_name }} quiere comprar"},
             "exits": {"next": None, "failed": None}},
        ])
        _go(cauce, ws, contact)
        handlers = _handlers(notification_requested=NotificationHandler(loopback))
        _settle(cauce, handlers)
        (item,) = _outbox(cauce, "notification_requested")
        assert item.status == "done", item.last_error
        (request,) = slack.requests
        assert request.path == "/hook"
        assert request.json() == {"text": "*Nuevo lead*\nAna quiere comprar"}


def test_notify_team_by_email_through_the_workspace_email_channel(
    api: TestClient, cauce: Cauce,
) -> None:
    from aiosmtpd.controller import Controller

    from tests.channels.test_email import Inbox, _port

    inbox, port = Inbox(), _port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        created = api.post("/api/v1/channels", json={"kind": "email", "name": "Mail", "config": {
            "host": "127.0.0.1", "port": port, "security": "none",
            "from_address": "bot@shop.example"}})
        assert created.status_code == 201, created.text
        contact = api.post("/api/v1/contacts", json={"phone": "+5491122334455",
                                                     "first_name": "Ana"}).json()["id"]
        _publish(cauce, 1, [
            {"id": "tell", "type": "notify_team",
             "config": {"target": "email", "to": "ventas@shop.example, jefa@shop.example",
                        "subject": "Lead: {{ contact.first_name }}", "text": "Llamarla hoy"},
             "exits": {"next": None, "failed": None}},
        ])
        _go(cauce, 1, contact)
        _settle(cauce, _handlers())
        (item,) = _outbox(cauce, "notification_requested")
        assert item.status == "done", item.last_error
    finally:
        controller.stop()
    assert sorted(env.rcpt_tos[0] for env, _ in inbox.received) == [
        "jefa@shop.example", "ventas@shop.example"]
    assert {mime["Subject"] for _, mime in inbox.received} == {"Lead: Ana"}


def test_notify_team_without_a_slack_channel_is_a_dead_letter(cauce: Cauce) -> None:
    ws = make_workspace(cauce)
    (contact,) = make_contacts(cauce, ws, 1)
    _publish(cauce, ws, [{"id": "tell", "type": "notify_team",
                          "config": {"target": "slack", "text": "hola"},
                          "exits": {"next": None, "failed": None}}])
    _go(cauce, ws, contact)
    _settle(cauce, _handlers())
    (item,) = _outbox(cauce, "notification_requested")
    assert item.status == "dead" and item.last_error_code == "no_channel"


def test_notify_team_inbox_note_is_an_audit_entry_written_once(cauce: Cauce) -> None:
    ws = make_workspace(cauce)
    (contact,) = make_contacts(cauce, ws, 1)
    flow_id = _publish(cauce, ws, [
        {"id": "note", "type": "notify_team",
         "config": {"target": "inbox", "text": "Llamar a {{ contact.name }}"},
         "exits": {"next": None, "failed": None}},
    ])
    _go(cauce, ws, contact)
    handlers = _handlers()
    _settle(cauce, handlers)
    _redeliver(cauce, "notification_requested", handlers)
    with cauce.transaction() as s:
        (note,) = s.scalars(select(AuditEntry).where(AuditEntry.action == NOTE_ACTION)).all()
        assert (note.note, note.target, note.actor) == (
            "Llamar a C0", f"contact:{contact}", f"flow:{flow_id}")


# --------------------------------------------------------- engine adapter and processor


def test_a_failed_report_for_an_earlier_message_takes_that_steps_failed_exit(
    cauce: Cauce,
) -> None:
    ws = make_workspace(cauce)
    (contact,) = make_contacts(cauce, ws, 1)
    _publish(cauce, ws, [
        {"id": "first", "type": "sms", "config": {"text": "uno"},
         "exits": {"next": "second", "failed": "undelivered"}},
        {"id": "second", "type": "sms", "config": {"text": "dos"},
         "exits": {"next": "await", "failed": None}},
        {"id": "await", "type": "wait_for_reply", "config": {"timeout": "1d"},
         "exits": {"replied": None, "timeout": None}},
        {"id": "undelivered", "type": "add_tag", "config": {"tags": ["undelivered"]},
         "exits": {"next": None}},
    ])
    _go(cauce, ws, contact)
    processor = Processor(cauce, default_engine())
    _drain(processor, cauce)
    state = _run(cauce, contact).state
    first = next(k for k, node in state["sent_messages"].items() if node == "first")
    assert first != state["last_message_key"]
    # A report the run only records (``delivery_recorded``) for an earlier message is saved.
    _submit(cauce, ws, contact, DeliveryStatus(message_key=first, status="delivered",
                                               at=cauce.clock.now()))
    _drain(processor, cauce)
    assert _run(cauce, contact).state["delivered"] == [first]
    _submit(cauce, ws, contact, DeliveryStatus(message_key=first, status="failed",
                                               error_code="131026", at=cauce.clock.now()))
    _drain(processor, cauce)
    assert _tags(cauce, contact) == ["undelivered"]


class SilentChange(CauceEngine):
    """The product engine, except that a ``poke`` event changes the waiting run's state
    without emitting anything (as a delivery detail on the same timer does)."""

    def resume(self, document: dict[str, Any], state: RunState, input: Input,
               ctx: Context) -> Step:
        if isinstance(input, EventIn) and input.name == "poke":
            return Step(state=state.model_copy(update={"results": {"poked": True}}), events=[])
        return super().resume(document, state, input, ctx)


def test_a_state_change_without_events_is_saved(cauce: Cauce) -> None:
    ws = make_workspace(cauce)
    (contact,) = make_contacts(cauce, ws, 1)
    _publish(cauce, ws, [
        {"id": "await", "type": "wait_for_reply", "config": {"timeout": "1d"},
         "exits": {"replied": None, "timeout": None}},
    ])
    processor = Processor(cauce, SilentChange())
    _go(cauce, ws, contact)
    _go(cauce, ws, contact, event="poke")
    _drain(processor, cauce)
    run = _run(cauce, contact)
    assert run.status == "waiting" and run.state["results"] == {"poked": True}
    # An input that leaves the state as it is writes nothing (and still moves the queue on).
    _go(cauce, ws, contact, event="other")
    _drain(processor, cauce)
    assert _run(cauce, contact).state["results"] == {"poked": True}
