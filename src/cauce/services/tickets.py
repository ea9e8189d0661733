"""Tickets: a request a person must handle, with the conversation transcript and the
context (flow, run, opportunity...) that led to it."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from cauce.services.contacts import get_contact
from cauce.services.errors import Invalid, NotFound
from cauce.services.pagination import Page, paginate
from cauce.store.models import Membership, Ticket

PRIORITIES = ("low", "normal", "high", "urgent")
STATUSES = ("open", "pending", "solved", "closed")
MAX_TRANSCRIPT_ENTRIES = 500


class TranscriptEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    direction: Literal["in", "out", "note"]
    text: str = Field(max_length=8000)
    at: datetime
    author: str = Field(default="", max_length=200)
    channel: str = Field(default="", max_length=32)


class TicketIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: str | None = Field(default=None, max_length=300, examples=["Reclamo por envío"])
    description: str | None = Field(default=None, max_length=20000)
    contact_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    priority: Literal["low", "normal", "high", "urgent"] | None = None
    status: Literal["open", "pending", "solved", "closed"] | None = None
    assignee_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    team: str | None = Field(default=None, max_length=100)
    transcript: list[TranscriptEntry] | None = Field(
        default=None, max_length=MAX_TRANSCRIPT_ENTRIES
    )
    context: dict[str, Any] | None = Field(
        default=None, examples=[{"flow_id": 3, "run_id": "r-1", "summary": "Pide reembolso"}]
    )
    key: str | None = Field(
        default=None, max_length=128, description="Idempotency key: a second create returns "
        "the first ticket."
    )


def _check_assignee(session: Session, workspace_id: int, user_id: int | None) -> None:
    if user_id is None:
        return
    if session.scalar(
        select(Membership.id).where(
            Membership.workspace_id == workspace_id, Membership.user_id == user_id
        )
    ) is None:
        raise Invalid(
            f"assignee_id: user {user_id} is not a member of this workspace", field="assignee_id"
        )


def create_ticket(
    session: Session, workspace_id: int, data: TicketIn, now: datetime, source: str = "api"
) -> tuple[Ticket, bool]:
    """Returns ``(ticket, created)``; with a ``key`` seen before, the existing ticket."""
    if data.key:
        existing = session.scalar(
            select(Ticket).where(Ticket.workspace_id == workspace_id, Ticket.key == data.key)
        )
        if existing is not None:
            return existing, False
    subject = (data.subject or "").strip()
    if not subject:
        raise Invalid("subject: required", field="subject")
    if data.contact_id is not None:
        get_contact(session, workspace_id, data.contact_id)
    _check_assignee(session, workspace_id, data.assignee_id)
    status = data.status or "open"
    row = Ticket(
        workspace_id=workspace_id, key=data.key, contact_id=data.contact_id, subject=subject,
        description=data.description or "", priority=data.priority or "normal", status=status,
        assignee_id=data.assignee_id, team=data.team,
        transcript=[e.model_dump(mode="json") for e in data.transcript or []],
        context=data.context or {}, source=source, created_at=now, updated_at=now,
        closed_at=now if status in ("solved", "closed") else None,
    )
    session.add(row)
    session.flush()
    from cauce.services import webhook_subscriptions

    webhook_subscriptions.publish(
        session, workspace_id, "ticket.opened", ticket_data(row), now,
        contact_id=row.contact_id, event_id=f"ticket-{row.id}-opened",
    )
    return row, True


def ticket_data(row: Ticket) -> dict[str, Any]:
    """The ``ticket.opened`` webhook payload (the contract in docs/crm.md)."""
    return {
        "id": row.id, "contact_id": row.contact_id, "subject": row.subject,
        "description": row.description, "priority": row.priority, "status": row.status,
        "assignee_id": row.assignee_id, "team": row.team, "context": dict(row.context),
        "source": row.source, "created_at": row.created_at.isoformat(),
    }


def get_ticket(session: Session, workspace_id: int, ticket_id: int) -> Ticket:
    row = session.get(Ticket, ticket_id)
    if row is None or row.workspace_id != workspace_id:
        raise NotFound(f"ticket {ticket_id} not found")
    return row


def update_ticket(
    session: Session, workspace_id: int, ticket_id: int, data: TicketIn, now: datetime
) -> Ticket:
    row = get_ticket(session, workspace_id, ticket_id)
    sent = data.model_fields_set
    if data.key is not None and data.key != row.key:
        raise Invalid("key: cannot change", field="key")
    if data.subject is not None:
        if not data.subject.strip():
            raise Invalid("subject: cannot be empty", field="subject")
        row.subject = data.subject.strip()
    if data.description is not None:
        row.description = data.description
    if "contact_id" in sent:
        if data.contact_id is not None:
            get_contact(session, workspace_id, data.contact_id)
        row.contact_id = data.contact_id
    if data.priority is not None:
        row.priority = data.priority
    if data.status is not None and data.status != row.status:
        row.status = data.status
        row.closed_at = now if data.status in ("solved", "closed") else None
    if "assignee_id" in sent:
        _check_assignee(session, workspace_id, data.assignee_id)
        row.assignee_id = data.assignee_id
    if "team" in sent:
        row.team = data.team
    if data.transcript is not None:
        row.transcript = [e.model_dump(mode="json") for e in data.transcript]
    if data.context is not None:
        row.context = {**row.context, **data.context}
    row.updated_at = now
    return row


def append_transcript(
    session: Session, workspace_id: int, ticket_id: int, entry: TranscriptEntry, now: datetime
) -> Ticket:
    row = get_ticket(session, workspace_id, ticket_id)
    if len(row.transcript) >= MAX_TRANSCRIPT_ENTRIES:
        raise Invalid(
            f"transcript: at most {MAX_TRANSCRIPT_ENTRIES} entries per ticket", field="transcript"
        )
    row.transcript = [*row.transcript, entry.model_dump(mode="json")]
    row.updated_at = now
    return row


def delete_ticket(session: Session, workspace_id: int, ticket_id: int) -> None:
    session.delete(get_ticket(session, workspace_id, ticket_id))


def list_tickets(
    session: Session, workspace_id: int, *, limit: int | None, cursor: str | None,
    status: str | None = None, priority: str | None = None, assignee_id: int | None = None,
    contact_id: int | None = None,
) -> Page[Ticket]:
    stmt = select(Ticket).where(Ticket.workspace_id == workspace_id)
    if status is not None:
        if status not in STATUSES:
            raise Invalid(f"status: one of {', '.join(STATUSES)}", field="status")
        stmt = stmt.where(Ticket.status == status)
    if priority is not None:
        if priority not in PRIORITIES:
            raise Invalid(f"priority: one of {', '.join(PRIORITIES)}", field="priority")
        stmt = stmt.where(Ticket.priority == priority)
    if assignee_id is not None:
        stmt = stmt.where(Ticket.assignee_id == assignee_id)
    if contact_id is not None:
        stmt = stmt.where(Ticket.contact_id == contact_id)
    return paginate(session, stmt, Ticket.id, limit, cursor)
