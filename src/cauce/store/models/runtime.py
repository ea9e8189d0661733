"""The durable runtime's tables: inputs, runs, timers, outbox, step log, counters, clock,
rate-limit buckets.

Sizes matter here: a million waiting runs are a million ``runtime_runs`` rows plus one
``runtime_timers`` row each, so those two tables carry only what the scheduler and the worker
need, and the indexes are partial where the hot path only looks at a small slice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Float,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from cauce.store.base import Base, BigId, JsonType

# Input statuses (short strings: they are in every row and in partial-index predicates).
INPUT_PENDING = "pending"
INPUT_DONE = "done"
INPUT_FAILED = "failed"

# Outbox statuses.
OUTBOX_PENDING = "pending"
OUTBOX_SENDING = "sending"  # an attempt is recorded and may be at the provider right now
OUTBOX_DONE = "done"
OUTBOX_DEAD = "dead"

# Outbox priorities: replies to a live conversation go before broadcast traffic.
PRIORITY_REPLY = 0
PRIORITY_NORMAL = 1
PRIORITY_BROADCAST = 2


class RuntimeInput(Base):
    """Something that happened to a contact, stored before it is processed.

    The id is the arrival order; a contact's inputs are processed strictly in id order.
    """

    __tablename__ = "runtime_inputs"
    __table_args__ = (
        UniqueConstraint("workspace_id", "dedupe_key"),
        Index(
            "ix_runtime_inputs_pending", "contact_id", "id",
            postgresql_where=text("status = 'pending'"), sqlite_where=text("status = 'pending'"),
        ),
        Index(
            "ix_runtime_inputs_queue", "id",
            postgresql_where=text("status = 'pending'"), sqlite_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[int] = mapped_column(BigId)
    contact_id: Mapped[int] = mapped_column(BigId)
    kind: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict[str, Any]] = mapped_column(JsonType)
    dedupe_key: Mapped[str | None] = mapped_column(String(200), default=None)
    status: Mapped[str] = mapped_column(String(8), default=INPUT_PENDING)
    created_at: Mapped[datetime]
    processed_at: Mapped[datetime | None] = mapped_column(default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)


class InboundWebhook(Base):
    """A provider webhook as it arrived (raw body and signature), stored before it is answered.

    The webhook route verifies the signature, inserts this row (group commit with concurrent
    requests) and answers; the runtime parses it into contacts, messages and inputs later, in
    id order, and records what it did in ``result``.
    """

    __tablename__ = "inbound_webhooks"
    __table_args__ = (
        Index(
            "ix_inbound_webhooks_pending", "id",
            postgresql_where=text("status = 'pending'"), sqlite_where=text("status = 'pending'"),
        ),
        Index("ix_inbound_webhooks_processed", "processed_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    provider: Mapped[str] = mapped_column(String(16))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    signature: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(8), default=INPUT_PENDING)
    processed_at: Mapped[datetime | None] = mapped_column(default=None)
    result: Mapped[dict[str, Any] | None] = mapped_column(JsonType, default=None)


class RuntimeRun(Base):
    """A run of a flow version for one contact; ``state`` is the engine's ``RunState``."""

    __tablename__ = "runtime_runs"
    __table_args__ = (
        # Every run of a contact (waiting ones to resume, ended ones for re-entry rules).
        Index("ix_runtime_runs_contact", "contact_id"),
        Index("ix_runtime_runs_ws_flow", "workspace_id", "flow_id", "status"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # RunState.run_id
    workspace_id: Mapped[int] = mapped_column(BigId)
    flow_id: Mapped[int] = mapped_column(BigId)
    flow_version: Mapped[int] = mapped_column(Integer)
    contact_id: Mapped[int] = mapped_column(BigId)
    status: Mapped[str] = mapped_column(String(12))
    state: Mapped[dict[str, Any]] = mapped_column(JsonType)
    started_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class RuntimeTimer(Base):
    """A wait's due time. Fired timers are deleted; a timer whose run moved on is a no-op."""

    __tablename__ = "runtime_timers"
    __table_args__ = (
        Index("ix_runtime_timers_due", "due_at", "id"),
        Index("ix_runtime_timers_timer", "timer_id"),  # engine's TimerCancelled
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[int] = mapped_column(BigId)
    contact_id: Mapped[int] = mapped_column(BigId)
    run_id: Mapped[str] = mapped_column(String(40))
    timer_id: Mapped[str] = mapped_column(String(64))
    due_at: Mapped[datetime]


# Literal SQL (not bound parameters), so both databases can match the partial index.
HANDOFF_PENDING_SQL = "kind = 'handoff_requested' AND status IN ('pending', 'sending')"
# A contact's messages still to send, in order: delivery's claim holds a message back while
# an earlier one of its contact waits (cauce.runtime.delivery).
MESSAGE_QUEUED_SQL = "kind = 'message_requested' AND status IN ('pending', 'sending')"


class OutboxItem(Base):
    """An effect to deliver after the state that caused it is committed."""

    __tablename__ = "runtime_outbox"
    __table_args__ = (
        UniqueConstraint("key"),
        Index(
            "ix_runtime_outbox_ready", "priority", "next_attempt_at",
            postgresql_where=text("status IN ('pending', 'sending')"),
            sqlite_where=text("status IN ('pending', 'sending')"),
        ),
        Index("ix_runtime_outbox_ws_status", "workspace_id", "status"),
        # Contacts with a handoff not yet delivered: the bot is paused for them from the
        # commit of the handoff step on (cauce.services.inbox.paused_contacts).
        Index(
            "ix_runtime_outbox_handoff_pending", "contact_id",
            postgresql_where=text(HANDOFF_PENDING_SQL), sqlite_where=text(HANDOFF_PENDING_SQL),
        ),
        Index(
            "ix_runtime_outbox_contact_queue", "contact_id", "id",
            postgresql_where=text(MESSAGE_QUEUED_SQL), sqlite_where=text(MESSAGE_QUEUED_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[int] = mapped_column(BigId)
    contact_id: Mapped[int] = mapped_column(BigId)
    run_id: Mapped[str | None] = mapped_column(String(40), default=None)
    key: Mapped[str] = mapped_column(String(120))  # idempotency key (MessageRequested.key...)
    kind: Mapped[str] = mapped_column(String(40))  # the event type
    channel: Mapped[str] = mapped_column(String(32), default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JsonType)  # the event as JSON
    priority: Mapped[int] = mapped_column(SmallInteger, default=PRIORITY_NORMAL)
    status: Mapped[str] = mapped_column(String(8), default=OUTBOX_PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Attempts that began but whose outcome was never recorded (a crash mid-call).
    uncertain: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    provider_id: Mapped[str | None] = mapped_column(String(200), default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    last_error_code: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class StepLogEntry(Base):
    """One activation of a run: the input, the node it reached, the events, timing, errors."""

    __tablename__ = "runtime_step_log"
    __table_args__ = (Index("ix_runtime_step_log_run", "run_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    workspace_id: Mapped[int] = mapped_column(BigId)
    run_id: Mapped[str] = mapped_column(String(40))
    input_id: Mapped[int | None] = mapped_column(BigId, default=None)
    input_kind: Mapped[str] = mapped_column(String(16))
    node_id: Mapped[str | None] = mapped_column(String(64), default=None)
    status: Mapped[str] = mapped_column(String(12))
    input: Mapped[dict[str, Any]] = mapped_column(JsonType)
    output: Mapped[list[Any]] = mapped_column(JsonType)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    at: Mapped[datetime]
    duration_us: Mapped[int] = mapped_column(Integer, default=0)


class FlowCounter(Base):
    """Per flow version node entries (``exit`` = "") and exits taken, for funnels.

    Workers add to their own ``shard`` row so concurrent transactions never queue on one hot
    counter row; readers sum the shards.
    """

    __tablename__ = "runtime_flow_counters"

    workspace_id: Mapped[int] = mapped_column(BigId)
    flow_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    flow_version: Mapped[int] = mapped_column(Integer, primary_key=True)
    node_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    exit: Mapped[str] = mapped_column(String(64), primary_key=True)
    shard: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    count: Mapped[int] = mapped_column(BigId, default=0)


class RuntimeClock(Base):
    """The virtual clock's time, shared by every process of a deployment (one row)."""

    __tablename__ = "runtime_clock"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    now: Mapped[datetime]


class RateBucket(Base):
    """A token bucket shared by every worker (per channel and sending number)."""

    __tablename__ = "runtime_rate_buckets"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime]
