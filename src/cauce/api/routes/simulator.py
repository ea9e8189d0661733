"""The simulator: the web UI's chat panel talks to a flow as a WhatsApp contact would, with
the same buttons, lists and 24-hour window, and no credentials."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from cauce.api.deps import CauceDep, PrincipalDep, SessionDep
from cauce.api.errors import ERROR_RESPONSES
from cauce.api.pagination import IdPath
from cauce.channels import rules
from cauce.limits import API_PAGE_SIZE_DEFAULT, API_PAGE_SIZE_MAX
from cauce.services import contacts as contact_service
from cauce.services import inbound
from cauce.services import messages as message_service
from cauce.store.models import Message

router = APIRouter(prefix="/simulator", tags=["simulator"], responses=ERROR_RESPONSES)


class MessagePublic(BaseModel):
    id: int
    direction: str
    channel: str
    kind: str
    text: str
    content: dict[str, Any]
    key: str | None
    provider_id: str | None
    reply_to: str | None
    status: str
    category: str
    created_at: datetime
    delivered_at: datetime | None
    read_at: datetime | None
    failed_at: datetime | None
    error_reason: str | None
    run_id: str | None
    node_id: str | None


def message_public(row: Message) -> MessagePublic:
    return MessagePublic(
        id=row.id, direction=row.direction, channel=row.channel_kind, kind=row.kind,
        text=row.text, content=dict(row.content or {}), key=row.key,
        provider_id=row.provider_id, reply_to=row.reply_to, status=row.status,
        category=row.category, created_at=row.created_at, delivered_at=row.delivered_at,
        read_at=row.read_at, failed_at=row.failed_at, error_reason=row.error_reason,
        run_id=row.run_id, node_id=row.node_id)


class SimulatedAccepted(BaseModel):
    contact_id: int
    message: MessagePublic


class Transcript(BaseModel):
    contact_id: int
    window_open: bool
    window_closes_at: datetime | None
    items: list[MessagePublic]


@router.post("/messages", operation_id="simulator_send", status_code=202)
def simulator_send(body: inbound.SimulatedMessage, session: SessionDep,
                   principal: PrincipalDep, cauce: CauceDep) -> SimulatedAccepted:
    """The contact says something; flows waiting for a reply resume after this commits."""
    principal.require("editor")
    contact, row = inbound.simulate_inbound(session, principal.workspace_id, body,
                                            cauce.clock.now())
    return SimulatedAccepted(contact_id=contact.id, message=message_public(row))


@router.get("/contacts/{contact_id}/messages", operation_id="simulator_transcript")
def simulator_transcript(
    contact_id: IdPath, session: SessionDep, principal: PrincipalDep, cauce: CauceDep,
    limit: int = Query(API_PAGE_SIZE_DEFAULT, ge=1, le=API_PAGE_SIZE_MAX),
    before_id: int | None = None,
) -> Transcript:
    """The conversation (both directions, every channel), oldest first, and whether the
    24-hour window is open."""
    contact_service.get_contact(session, principal.workspace_id, contact_id)
    rows = message_service.transcript(session, principal.workspace_id, contact_id,
                                      limit=limit, before_id=before_id)
    last_in = message_service.last_inbound_at(session, principal.workspace_id, contact_id)
    closes = rules.window_closes_at(last_in)
    return Transcript(contact_id=contact_id, window_open=rules.window_open(
        last_in, cauce.clock.now()), window_closes_at=closes,
        items=[message_public(r) for r in rows])
