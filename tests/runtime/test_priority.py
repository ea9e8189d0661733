"""Replies to people talking to us go out ahead of broadcast traffic: a broadcast queued first
never starves a reply queued later."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from cauce.engine.types import ManualStart, MessageIn
from cauce.runtime.delivery import Attempt, Delivery, DeliveryConfig, Route
from cauce.runtime.handlers import MessageHandler
from cauce.runtime.ingest import submit_input
from cauce.services.container import Cauce
from cauce.services.messages import record_inbound
from cauce.store.models import OutboxItem
from tests.conftest import T0
from tests.runtime.support import drain, make_contacts, make_workspace, processor, publish


class RecordingMessages(MessageHandler):
    """The real message handler (simulator channel), noting the order of provider calls."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def call(self, item: Attempt, route: Route) -> Any:
        payload = item.payload.get("payload", {})
        self.calls.append(str(payload.get("text") or payload.get("name")))
        return super().call(item, route)


def test_a_reply_queued_after_a_broadcast_goes_out_in_the_first_batch(cauce: Cauce) -> None:
    ws = make_workspace(cauce)
    audience = make_contacts(cauce, ws, 150)
    (talker,) = make_contacts(cauce, ws, 1, start=1000)
    promo = publish(cauce, ws, {"trigger": {"manual": True}, "steps": [{"template": "oferta"}]},
                    name="promo")
    publish(cauce, ws, {"trigger": {"keyword": "hola"}, "steps": [{"send": "respuesta"}]},
            name="bot")
    with cauce.transaction() as s:
        for contact in audience:
            submit_input(s, workspace_id=ws, contact_id=contact, input=ManualStart(
                source="broadcast", at=T0, flow_id=promo))
    drain(processor(cauce))
    with cauce.transaction() as s:
        # The talker wrote just now, so the 24-hour window is open for a free-form reply
        # (no WhatsApp number is set up: the simulator channel carries the messages).
        record_inbound(s, workspace_id=ws, contact_id=talker, channel_kind="simulator",
                       channel_id=None, provider_id="sim.hola", kind="text",
                       content={"text": "hola"}, received_at=T0)
        submit_input(s, workspace_id=ws, contact_id=talker, input=MessageIn(
            channel="simulator", text="hola", message_id="m1", received_at=T0))
    drain(processor(cauce))
    with cauce.transaction() as s:
        queued = list(s.scalars(select(OutboxItem).order_by(OutboxItem.id)))
    assert len(queued) == 151 and queued[-1].contact_id == talker  # the reply was queued last

    handler = RecordingMessages()
    delivery = Delivery(cauce, DeliveryConfig(batch_size=20, concurrency=1),
                        handlers={"message_requested": handler})
    assert delivery.deliver_batch() == 20
    assert handler.calls[0] == "respuesta"
    assert handler.calls[1:] == ["oferta"] * 19
    while delivery.deliver_batch():
        pass
    delivery.close()
    assert handler.calls.count("oferta") == 150 and handler.calls.count("respuesta") == 1
