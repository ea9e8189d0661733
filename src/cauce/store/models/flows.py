"""Flows and their immutable published versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cauce.store.base import Base, BigId, JsonType, WorkspaceScoped


class Flow(WorkspaceScoped, Base):
    """A flow: its editable draft and a pointer to the version new runs start on."""

    __tablename__ = "flows"

    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(2000), default="")
    draft: Mapped[dict[str, Any]] = mapped_column(JsonType)  # the flow document being edited
    published_version: Mapped[int | None] = mapped_column(Integer, default=None)
    enabled: Mapped[bool] = mapped_column(default=True)
    template_slug: Mapped[str | None] = mapped_column(String(100), default=None)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    archived_at: Mapped[datetime | None] = mapped_column(default=None)


class FlowVersion(WorkspaceScoped, Base):
    """A frozen flow document. Never updated once written; runs stay on their version."""

    __tablename__ = "flow_versions"
    __table_args__ = (UniqueConstraint("flow_id", "number"),)

    flow_id: Mapped[int] = mapped_column(BigId, ForeignKey("flows.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    document: Mapped[dict[str, Any]] = mapped_column(JsonType)
    published_at: Mapped[datetime]
    published_by: Mapped[str] = mapped_column(String(64), default="system")
    note: Mapped[str] = mapped_column(String(500), default="")
