"""The agent inbox: teams of agents, conversations handed over by a flow's ``handoff`` step,
and the notes and events agents leave on them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cauce.store.base import Base, BigId, JsonType, WorkspaceScoped


class Team(WorkspaceScoped, Base):
    """Agents who share a queue. ``assignment`` says who gets a new conversation:
    ``round_robin`` (the member after ``last_assigned_id``), ``least_open`` (the member with
    the fewest open conversations) or ``manual`` (nobody; an agent takes it)."""

    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    name: Mapped[str] = mapped_column(String(100))
    assignment: Mapped[str] = mapped_column(String(16), default="round_robin")
    last_assigned_id: Mapped[int | None] = mapped_column(BigId, default=None)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class TeamMember(WorkspaceScoped, Base):
    __tablename__ = "team_members"
    __table_args__ = (UniqueConstraint("team_id", "user_id"),)

    team_id: Mapped[int] = mapped_column(BigId, ForeignKey("teams.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))


class Conversation(WorkspaceScoped, Base):
    """A contact handed to people on one channel. While ``open`` the bot is paused for the
    contact: its messages go to the agent and start or advance no flow. Closing hands the run
    back through the handoff step's activity (``activity_id``)."""

    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_contact_status", "contact_id", "status"),
        Index("ix_conversations_ws_status", "workspace_id", "status"),
        Index("ix_conversations_assignee_status", "assignee_id", "status"),
    )

    contact_id: Mapped[int] = mapped_column(BigId, ForeignKey("contacts.id", ondelete="CASCADE"))
    channel_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("channels.id", ondelete="SET NULL"), default=None)
    channel_kind: Mapped[str] = mapped_column(String(32), default="whatsapp")
    status: Mapped[str] = mapped_column(String(8), default="open")  # open|closed
    assignee_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL"), default=None)
    team_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("teams.id", ondelete="SET NULL"), default=None)
    priority: Mapped[str] = mapped_column(String(8), default="normal")  # low|normal|high|urgent
    summary: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")
    context: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    ticket_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("tickets.id", ondelete="SET NULL"), default=None)
    run_id: Mapped[str | None] = mapped_column(String(40), default=None)
    activity_id: Mapped[str | None] = mapped_column(String(64), default=None)
    # The transcript starts at this message (the recent messages attached at handoff).
    transcript_from_id: Mapped[int] = mapped_column(BigId, default=0)
    opened_at: Mapped[datetime]
    first_response_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    resolution: Mapped[str | None] = mapped_column(String(64), default=None)
    # Recorded for the dashboard: seconds from opening to the first reply, and to closing.
    first_response_seconds: Mapped[int | None] = mapped_column(Integer, default=None)
    resolution_seconds: Mapped[int | None] = mapped_column(Integer, default=None)
    updated_at: Mapped[datetime]


class InboxNote(WorkspaceScoped, Base):
    """What people and the system add to a conversation besides messages: internal
    ``note``s, ``event``s (assigned, transferred, closed) and ``reply`` markers that name the
    agent behind an outbound message (``message_key``)."""

    __tablename__ = "inbox_notes"
    __table_args__ = (Index("ix_inbox_notes_conversation", "conversation_id", "at"),)

    conversation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("conversations.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))  # note|event|reply
    author_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL"), default=None)
    actor: Mapped[str] = mapped_column(String(254), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    message_key: Mapped[str | None] = mapped_column(String(120), default=None)
    # An event's parts as data ({"code": "assigned_by_team", "user": 3, ...}), so each UI
    # language can say it; ``text`` is the same in English for API readers.
    parts: Mapped[list[dict[str, Any]] | None] = mapped_column(JsonType, default=None)
    at: Mapped[datetime]
