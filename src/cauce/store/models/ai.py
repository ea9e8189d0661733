"""AI: the workspace intent library and the log of AI decisions with agents' reviews.

Reviews are what "% de ruteo correcto" is computed from, and a correction adds the message as a
new example of the right intent in the library, so the next similar message routes correctly.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cauce.store.base import Base, BigId, JsonType, WorkspaceScoped


class AiIntent(WorkspaceScoped, Base):
    """A workspace intent: examples and keywords a classify node can use by name."""

    __tablename__ = "ai_intents"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    name: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(String(500), default="")
    examples: Mapped[list[str]] = mapped_column(JsonType, default=list)
    keywords: Mapped[list[str]] = mapped_column(JsonType, default=list)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class AiDecisionLog(WorkspaceScoped, Base):
    """One AI decision of a run: input, output, confidence, model, and its review."""

    __tablename__ = "ai_decisions"
    __table_args__ = (
        Index("ix_ai_decisions_workspace_review", "workspace_id", "review_status"),
        Index("ix_ai_decisions_workspace_flow", "workspace_id", "flow_id"),
    )

    run_id: Mapped[str | None] = mapped_column(String(64), default=None)
    flow_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("flows.id", ondelete="SET NULL"), default=None
    )
    node_id: Mapped[str] = mapped_column(String(64), default="")
    contact_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("contacts.id", ondelete="SET NULL"), default=None
    )
    operation: Mapped[str] = mapped_column(String(32))
    input: Mapped[str] = mapped_column(Text)
    output: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    # The routing outcome for quick filters: the intent or "unsure"; the label for sentiment.
    result: Mapped[str | None] = mapped_column(String(64), default=None)
    confidence: Mapped[float | None] = mapped_column(Float, default=None)
    model: Mapped[str] = mapped_column(String(100))
    model_version: Mapped[str] = mapped_column(String(50), default="")
    method: Mapped[str] = mapped_column(String(32))
    fallback_reason: Mapped[str | None] = mapped_column(String(200), default=None)
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)
    # pending, confirmed (the agent agreed) or corrected (see corrected_to)
    review_status: Mapped[str] = mapped_column(String(16), default="pending")
    corrected_to: Mapped[str | None] = mapped_column(String(64), default=None)
    reviewed_by: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    reviewed_at: Mapped[datetime | None] = mapped_column(default=None)
    created_at: Mapped[datetime]
