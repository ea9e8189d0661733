"""Channel configurations per workspace and the WhatsApp template registry per number."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cauce.store.base import Base, BigId, JsonType, WorkspaceScoped


class Channel(WorkspaceScoped, Base):
    """One configured channel: a WhatsApp number, an SMTP account, an SMS provider...

    ``identifier`` is what inbound webhooks route on (WhatsApp ``phone_number_id``, the SMS
    sender number, the SMTP sender address); it is unique per kind across workspaces because
    Meta sends one app's webhooks for every number to one URL. ``config`` holds non-secret
    settings; ``secrets`` is a :class:`cauce.security.SecretBox` ciphertext of a JSON object
    (tokens, app secret, passwords) and is never returned by the API.
    """

    __tablename__ = "channels"
    __table_args__ = (
        UniqueConstraint("kind", "identifier"),
        UniqueConstraint("workspace_id", "name"),
    )

    kind: Mapped[str] = mapped_column(String(32))  # a cauce.channels.registry kind
    name: Mapped[str] = mapped_column(String(100))
    identifier: Mapped[str | None] = mapped_column(String(200), default=None)
    config: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    secrets: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="active")  # active|broken|disabled
    status_reason: Mapped[str] = mapped_column(String(500), default="")
    broken_at: Mapped[datetime | None] = mapped_column(default=None)
    rate_per_second: Mapped[float | None] = mapped_column(Float, default=None)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class WhatsAppTemplate(WorkspaceScoped, Base):
    """A message template of a WhatsApp number, synced from Meta or entered by hand."""

    __tablename__ = "whatsapp_templates"
    __table_args__ = (
        UniqueConstraint("channel_id", "name", "language"),
        Index("ix_whatsapp_templates_workspace_name", "workspace_id", "name"),
    )

    channel_id: Mapped[int] = mapped_column(BigId, ForeignKey("channels.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(512))
    language: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(32), default="utility")
    status: Mapped[str] = mapped_column(String(32), default="approved")
    components: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list)
    provider_id: Mapped[str | None] = mapped_column(String(64), default=None)
    source: Mapped[str] = mapped_column(String(16), default="manual")  # manual|synced
    synced_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime]
