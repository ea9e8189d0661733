"""Tickets with their transcript and context."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel

from cauce.api.deps import CauceDep, PrincipalDep, SessionDep
from cauce.api.errors import ERROR_RESPONSES
from cauce.api.pagination import DEFAULT_LIMIT, CursorQuery, IdPath, IdQuery, LimitQuery, PageOut
from cauce.services import tickets
from cauce.services.tickets import TicketIn, TranscriptEntry
from cauce.store.models import Ticket

router = APIRouter(prefix="/tickets", tags=["tickets"], responses=ERROR_RESPONSES)


class TicketPublic(BaseModel):
    id: int
    key: str | None
    contact_id: IdPath | None
    subject: str
    description: str
    priority: str
    status: str
    assignee_id: int | None
    team: str | None
    transcript: list[dict[str, Any]]
    context: dict[str, Any]
    source: str
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None

    @classmethod
    def of(cls, row: Ticket) -> TicketPublic:
        return cls.model_validate(row, from_attributes=True)


@router.post("", operation_id="create_ticket", status_code=201)
def create_ticket(
    body: TicketIn, session: SessionDep, principal: PrincipalDep, cauce: CauceDep,
    response: Response,
) -> TicketPublic:
    """Open a ticket. With a ``key`` already used, returns that ticket (200)."""
    principal.require("agent")
    row, created = tickets.create_ticket(session, principal.workspace_id, body, cauce.clock.now())
    if not created:
        response.status_code = 200
    return TicketPublic.of(row)


@router.get("", operation_id="list_tickets")
def list_tickets(
    session: SessionDep, principal: PrincipalDep, limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
    status: Literal["open", "pending", "solved", "closed"] | None = None,
    priority: Literal["low", "normal", "high", "urgent"] | None = None,
    assignee_id: IdQuery = None,
    contact_id: IdQuery = None,
) -> PageOut[TicketPublic]:
    page = tickets.list_tickets(
        session, principal.workspace_id, limit=limit, cursor=cursor, status=status,
        priority=priority, assignee_id=assignee_id, contact_id=contact_id,
    )
    return PageOut(items=[TicketPublic.of(r) for r in page.items], next_cursor=page.next_cursor)


@router.get("/{ticket_id}", operation_id="get_ticket")
def get_ticket(ticket_id: IdPath, session: SessionDep, principal: PrincipalDep) -> TicketPublic:
    return TicketPublic.of(tickets.get_ticket(session, principal.workspace_id, ticket_id))


@router.patch("/{ticket_id}", operation_id="update_ticket")
def update_ticket(
    ticket_id: IdPath, body: TicketIn, session: SessionDep, principal: PrincipalDep,
    cauce: CauceDep,
) -> TicketPublic:
    principal.require("agent")
    row = tickets.update_ticket(session, principal.workspace_id, ticket_id, body, cauce.clock.now())
    return TicketPublic.of(row)


@router.post("/{ticket_id}/transcript", operation_id="append_ticket_transcript")
def append_ticket_transcript(
    ticket_id: IdPath, body: TranscriptEntry, session: SessionDep, principal: PrincipalDep,
    cauce: CauceDep,
) -> TicketPublic:
    """Add a message or an internal note to the ticket's transcript."""
    principal.require("agent")
    row = tickets.append_transcript(
        session, principal.workspace_id, ticket_id, body, cauce.clock.now()
    )
    return TicketPublic.of(row)


@router.delete("/{ticket_id}", operation_id="delete_ticket", status_code=204)
def delete_ticket(ticket_id: IdPath, session: SessionDep, principal: PrincipalDep) -> Response:
    principal.require("editor")
    tickets.delete_ticket(session, principal.workspace_id, ticket_id)
    return Response(status_code=204)
