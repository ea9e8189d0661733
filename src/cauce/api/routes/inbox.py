"""Teams of agents and the agent inbox: conversations a flow's ``handoff`` step handed to
people, their transcript, replies, notes, assignment and closing (which resumes the flow)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from cauce.api.deps import CauceDep, PrincipalDep, SessionDep
from cauce.api.errors import ERROR_RESPONSES
from cauce.api.pagination import (
    DEFAULT_LIMIT,
    MAX_ID,
    CursorQuery,
    IdPath,
    IdQuery,
    LimitQuery,
    PageOut,
)
from cauce.services import inbox
from cauce.services.inbox import CloseIn, ReplyIn, TeamCreate, TeamIn, TeamView

teams = APIRouter(prefix="/teams", tags=["inbox"], responses=ERROR_RESPONSES)
router = APIRouter(prefix="/inbox/conversations", tags=["inbox"], responses=ERROR_RESPONSES)


# --------------------------------------------------------------------------------------------
# Teams
# --------------------------------------------------------------------------------------------


class TeamPublic(BaseModel):
    id: int
    name: str
    assignment: str
    member_ids: list[int]
    created_at: datetime

    @classmethod
    def of(cls, v: TeamView) -> TeamPublic:
        return cls(id=v.team.id, name=v.team.name, assignment=v.team.assignment,
                   member_ids=v.member_ids, created_at=v.team.created_at)


@teams.post("", operation_id="create_team", status_code=201)
def create_team(body: TeamCreate, session: SessionDep, principal: PrincipalDep,
                cauce: CauceDep) -> TeamPublic:
    """Create a team of agents with its assignment rule (admins)."""
    return TeamPublic.of(inbox.create_team(session, principal, body, cauce.clock.now()))


@teams.get("", operation_id="list_teams")
def list_teams(session: SessionDep, principal: PrincipalDep, limit: LimitQuery = DEFAULT_LIMIT,
               cursor: CursorQuery = None) -> PageOut[TeamPublic]:
    page = inbox.list_teams(session, principal.workspace_id, limit=limit, cursor=cursor)
    return PageOut(items=[TeamPublic.of(t) for t in page.items], next_cursor=page.next_cursor)


@teams.get("/{team_id}", operation_id="get_team")
def get_team(team_id: IdPath, session: SessionDep, principal: PrincipalDep) -> TeamPublic:
    return TeamPublic.of(inbox.get_team(session, principal.workspace_id, team_id))


@teams.patch("/{team_id}", operation_id="update_team")
def update_team(team_id: IdPath, body: TeamIn, session: SessionDep, principal: PrincipalDep,
                cauce: CauceDep) -> TeamPublic:
    """Rename, change the assignment rule or replace the members (admins)."""
    return TeamPublic.of(inbox.update_team(session, principal, team_id, body, cauce.clock.now()))


@teams.delete("/{team_id}", operation_id="delete_team", status_code=204)
def delete_team(team_id: IdPath, session: SessionDep, principal: PrincipalDep,
                cauce: CauceDep) -> Response:
    """Delete a team; its conversations stay, without a team."""
    inbox.delete_team(session, principal, team_id, cauce.clock.now())
    return Response(status_code=204)


# --------------------------------------------------------------------------------------------
# Conversations
# --------------------------------------------------------------------------------------------


class ContactBrief(BaseModel):
    id: int
    name: str | None
    phone: str | None
    email: str | None


class ConversationPublic(BaseModel):
    id: int
    contact: ContactBrief
    channel_id: int | None
    channel_kind: str
    status: str
    assignee_id: int | None
    team_id: int | None
    priority: str
    summary: str
    note: str
    context: dict[str, Any]
    ticket_id: int | None
    run_id: str | None
    opened_at: datetime
    first_response_at: datetime | None
    closed_at: datetime | None
    resolution: str | None
    first_response_seconds: int | None = Field(
        description="Seconds from the handoff to the first agent reply.")
    resolution_seconds: int | None = Field(description="Seconds from the handoff to closing.")
    last_message_at: datetime | None
    window_open: bool = Field(description="The contact wrote less than 24 hours ago (WhatsApp): "
                              "free-form replies are allowed; otherwise only templates.")

    @classmethod
    def of(cls, v: inbox.ConversationView, now: datetime) -> ConversationPublic:
        c = v.conversation
        contact = v.contact
        return cls(
            id=c.id, contact=ContactBrief(
                id=c.contact_id, name=contact.name if contact else None,
                phone=contact.phone if contact else None,
                email=contact.email if contact else None),
            channel_id=c.channel_id, channel_kind=c.channel_kind, status=c.status,
            assignee_id=c.assignee_id, team_id=c.team_id, priority=c.priority,
            summary=c.summary, note=c.note, context=c.context, ticket_id=c.ticket_id,
            run_id=c.run_id, opened_at=c.opened_at, first_response_at=c.first_response_at,
            closed_at=c.closed_at, resolution=c.resolution,
            first_response_seconds=c.first_response_seconds,
            resolution_seconds=c.resolution_seconds, last_message_at=v.last_message_at,
            window_open=v.window_open(now),
        )


class TranscriptItemPublic(BaseModel):
    kind: Literal["message", "note", "event"]
    direction: Literal["in", "out"] | None
    text: str
    author_id: int | None
    at: datetime
    status: str | None
    parts: list[dict[str, Any]] | None = Field(
        default=None, description="An event as data, one part per thing that happened: "
        '`{"code": "assigned_by_team", "user": 3, "team": "Ventas", "rule": "round_robin"}`. '
        "Codes: " + ", ".join(f"`{c}`" for c in inbox.EVENT_TEXT) + "; `text` says the same "
        "in English.")


class NotePublic(BaseModel):
    id: int
    kind: str
    text: str
    author_id: int | None
    at: datetime


class ReplyPublic(BaseModel):
    message_id: int
    key: str
    kind: str
    status: str
    text: str


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=8000, examples=["Pidió factura A; la mando mañana."])


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    assignee_id: int | None = Field(default=None, ge=1, le=MAX_ID,
                                    description="A member's user id; null: take it yourself.")


class TransferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    assignee_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    team_id: int | None = Field(default=None, ge=1, le=MAX_ID,
                                description="The team's rule picks the agent.")


def _conversation(session: Any, principal: Any, cauce: Any,
                  conversation_id: int) -> ConversationPublic:
    view = inbox.conversation_view(session, principal.workspace_id, conversation_id)
    return ConversationPublic.of(view, cauce.clock.now())


@router.get("", operation_id="list_conversations")
def list_conversations(
    session: SessionDep, principal: PrincipalDep, cauce: CauceDep,
    view: Literal["mine", "team", "unassigned", "all"] = "all",
    status: Literal["open", "closed"] | None = None,
    team_id: IdQuery = None, assignee_id: IdQuery = None,
    priority: Literal["low", "normal", "high", "urgent"] | None = None,
    q: Annotated[str | None, Query(max_length=200, description="Contact name, e-mail or "
                                   "phone contains this.")] = None,
    limit: LimitQuery = DEFAULT_LIMIT, cursor: CursorQuery = None,
) -> PageOut[ConversationPublic]:
    """Conversations handed to people. ``mine``: assigned to you; ``team``: of your teams;
    ``unassigned``: waiting for someone to take them."""
    page = inbox.list_conversations(
        session, principal, view=view, status=status, team_id=team_id,
        assignee_id=assignee_id, priority=priority, q=q, limit=limit, cursor=cursor)
    now = cauce.clock.now()
    return PageOut(items=[ConversationPublic.of(v, now) for v in page.items],
                   next_cursor=page.next_cursor)


@router.get("/{conversation_id}", operation_id="get_conversation")
def get_conversation(conversation_id: IdPath, session: SessionDep, principal: PrincipalDep,
                     cauce: CauceDep) -> ConversationPublic:
    return _conversation(session, principal, cauce, conversation_id)


@router.get("/{conversation_id}/transcript", operation_id="get_conversation_transcript")
def get_transcript(conversation_id: IdPath, session: SessionDep, principal: PrincipalDep,
                   limit: LimitQuery = DEFAULT_LIMIT,
                   cursor: CursorQuery = None) -> PageOut[TranscriptItemPublic]:
    """Messages (from the ones attached at handoff on), notes and events, oldest first."""
    page = inbox.read_transcript(session, principal.workspace_id, conversation_id,
                                 limit=limit, cursor=cursor)
    return PageOut(items=[TranscriptItemPublic(
        kind=i.kind,
        direction=i.direction,
        text=i.text, author_id=i.author_id, at=i.at, status=i.status, parts=i.parts)
        for i in page.items],
        next_cursor=page.next_cursor)


@router.post("/{conversation_id}/reply", operation_id="reply_conversation", status_code=202)
def reply_conversation(conversation_id: IdPath, body: ReplyIn, session: SessionDep,
                       principal: PrincipalDep, cauce: CauceDep) -> ReplyPublic:
    """Send a reply through the conversation's channel (queued, then delivered like any
    message). Free-form text only inside the 24-hour customer service window; outside it
    only an approved template, otherwise 409 with ``error.code = "outside_window"``."""
    message = inbox.reply(session, principal, conversation_id, body, cauce.clock.now())
    return ReplyPublic(message_id=message.id, key=message.key or "", kind=message.kind,
                       status=message.status, text=message.text)


@router.post("/{conversation_id}/notes", operation_id="add_conversation_note",
             status_code=201)
def add_note(conversation_id: IdPath, body: NoteIn, session: SessionDep,
             principal: PrincipalDep, cauce: CauceDep) -> NotePublic:
    """An internal note for the team; the contact never sees it."""
    note = inbox.add_note(session, principal, conversation_id, body.text, cauce.clock.now())
    return NotePublic(id=note.id, kind=note.kind, text=note.text, author_id=note.author_id,
                      at=note.at)


@router.post("/{conversation_id}/assign", operation_id="assign_conversation")
def assign_conversation(conversation_id: IdPath, body: AssignIn, session: SessionDep,
                        principal: PrincipalDep, cauce: CauceDep) -> ConversationPublic:
    """Give the conversation to a member, or take it yourself (``assignee_id: null``)."""
    inbox.assign(session, principal, conversation_id, body.assignee_id, cauce.clock.now())
    return _conversation(session, principal, cauce, conversation_id)


@router.post("/{conversation_id}/transfer", operation_id="transfer_conversation")
def transfer_conversation(conversation_id: IdPath, body: TransferIn, session: SessionDep,
                          principal: PrincipalDep, cauce: CauceDep) -> ConversationPublic:
    """Hand the conversation to another agent, or to a team whose rule picks the agent."""
    inbox.transfer(session, principal, conversation_id, assignee_id=body.assignee_id,
                   team_id=body.team_id, now=cauce.clock.now())
    return _conversation(session, principal, cauce, conversation_id)


@router.post("/{conversation_id}/close", operation_id="close_conversation")
def close_conversation(conversation_id: IdPath, body: CloseIn, session: SessionDep,
                       principal: PrincipalDep, cauce: CauceDep) -> ConversationPublic:
    """Close with a resolution. The bot takes over again, and the flow that handed the
    conversation over resumes through its handoff step's ``returned`` exit with
    ``resolution`` in the step's result (e.g. to ask for a CSAT rating)."""
    inbox.close(session, principal, conversation_id, body, cauce.clock.now())
    return _conversation(session, principal, cauce, conversation_id)
