"""CRM: segments, imports, pipelines, opportunities, tickets, the events API's bookkeeping,
web sessions and rate-limit windows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cauce.store.base import Base, BigId, JsonType, WorkspaceScoped


class Segment(WorkspaceScoped, Base):
    """A saved filter over contacts, compiled to SQL by ``services.segments``."""

    __tablename__ = "segments"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(2000), default="")
    filter: Mapped[dict[str, Any]] = mapped_column(JsonType)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ImportJob(WorkspaceScoped, Base):
    """A CSV import: its mapping, progress and the report of bad rows."""

    __tablename__ = "import_jobs"

    filename: Mapped[str] = mapped_column(String(500), default="")
    mapping: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    # pending|running|completed|failed
    status: Mapped[str] = mapped_column(String(16), default="pending")
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    processed_rows: Mapped[int] = mapped_column(Integer, default=0)
    created_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_count: Mapped[int] = mapped_column(Integer, default=0)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list)
    message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None] = mapped_column(default=None)


class ImportChunk(WorkspaceScoped, Base):
    """A batch of an import's rows still to be imported (CSV text, header first).

    The uploaded file lives in the database, not on one machine's disk, so any process can
    import it; a chunk is deleted in the transaction that upserts its contacts, so what is
    left is exactly what remains to do after a crash."""

    __tablename__ = "import_chunks"
    __table_args__ = (UniqueConstraint("job_id", "seq"),)

    job_id: Mapped[int] = mapped_column(BigId, ForeignKey("import_jobs.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    first_row: Mapped[int] = mapped_column(Integer)  # spreadsheet row number (header is 1)
    row_count: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)


class Pipeline(WorkspaceScoped, Base):
    __tablename__ = "pipelines"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class PipelineStage(WorkspaceScoped, Base):
    __tablename__ = "pipeline_stages"
    __table_args__ = (UniqueConstraint("pipeline_id", "name"),)

    pipeline_id: Mapped[int] = mapped_column(BigId, ForeignKey("pipelines.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)


class Opportunity(WorkspaceScoped, Base):
    __tablename__ = "opportunities"
    __table_args__ = (
        Index("ix_opportunities_pipeline_stage", "pipeline_id", "stage_id"),
        Index("ix_opportunities_contact", "contact_id"),
    )

    contact_id: Mapped[int] = mapped_column(BigId, ForeignKey("contacts.id", ondelete="CASCADE"))
    pipeline_id: Mapped[int] = mapped_column(BigId, ForeignKey("pipelines.id", ondelete="CASCADE"))
    stage_id: Mapped[int] = mapped_column(BigId, ForeignKey("pipeline_stages.id"))
    name: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default="open")  # open|won|lost|abandoned
    value: Mapped[float] = mapped_column(Numeric(14, 2, asdecimal=False), default=0)
    currency: Mapped[str] = mapped_column(String(3), default="")
    owner_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    tags: Mapped[list[str]] = mapped_column(JsonType, default=list)
    stage_entered_at: Mapped[datetime]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None] = mapped_column(default=None)


class OpportunityChange(WorkspaceScoped, Base):
    """One recorded change of an opportunity (the history behind ``opportunity.changed``)."""

    __tablename__ = "opportunity_changes"
    __table_args__ = (Index("ix_opportunity_changes_opp", "opportunity_id", "at"),)

    opportunity_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("opportunities.id", ondelete="CASCADE")
    )
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    changes: Mapped[dict[str, Any]] = mapped_column(JsonType)  # field -> [before, after]


class Ticket(WorkspaceScoped, Base):
    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("workspace_id", "key"),
        Index("ix_tickets_workspace_status", "workspace_id", "status"),
    )

    key: Mapped[str | None] = mapped_column(String(128), default=None)  # idempotency key
    contact_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("contacts.id", ondelete="SET NULL"), default=None
    )
    subject: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    priority: Mapped[str] = mapped_column(String(8), default="normal")  # low|normal|high|urgent
    status: Mapped[str] = mapped_column(String(16), default="open")  # open|pending|solved|closed
    assignee_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    team: Mapped[str | None] = mapped_column(String(100), default=None)
    transcript: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list)
    context: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    source: Mapped[str] = mapped_column(String(64), default="api")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None] = mapped_column(default=None)


class EventSource(WorkspaceScoped, Base):
    """A sender of business events; with a secret, its events must carry an HMAC signature."""

    __tablename__ = "event_sources"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    name: Mapped[str] = mapped_column(String(100))
    secret_encrypted: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime]


class EventReceipt(WorkspaceScoped, Base):
    """One accepted business event; the unique key makes the events API idempotent."""

    __tablename__ = "event_receipts"
    __table_args__ = (UniqueConstraint("workspace_id", "source", "event_id"),)

    source: Mapped[str] = mapped_column(String(100))
    event_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(100))
    contact_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("contacts.id", ondelete="SET NULL"), default=None
    )
    received_at: Mapped[datetime]


class WebSession(Base):
    """A web UI login. The cookie carries a random token; only its SHA-256 is stored, so a
    logout (or a stolen database) cannot be replayed."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id", ondelete="CASCADE"))
    workspace_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("workspaces.id", ondelete="CASCADE")
    )
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class RateLimitWindow(Base):
    """A fixed-window request counter shared by every process on PostgreSQL."""

    __tablename__ = "rate_limit_windows"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigId, primary_key=True)  # unix seconds
    count: Mapped[int] = mapped_column(Integer, default=0)
