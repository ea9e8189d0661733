"""Every message in or out, on every channel: the transcript, delivery state and cost."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cauce.store.base import Base, BigId, JsonType, WorkspaceScoped


class Message(WorkspaceScoped, Base):
    """One message. ``key`` is our idempotency key for outbound messages (the outbox key,
    echoed to WhatsApp as ``biz_opaque_callback_data``); ``provider_id`` is the provider's id
    (wamid, Twilio SID, Message-ID). Inbound messages are unique per channel and provider id,
    which is how webhook redeliveries are recognised."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("workspace_id", "key"),
        UniqueConstraint("workspace_id", "channel_kind", "direction", "provider_id"),
        Index("ix_messages_contact_at", "contact_id", "created_at"),
        Index("ix_messages_provider_id", "provider_id"),
        Index("ix_messages_contact_channel_dir", "contact_id", "channel_id", "direction",
              "created_at"),
    )

    direction: Mapped[str] = mapped_column(String(3))  # in|out
    contact_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("contacts.id", ondelete="SET NULL"), default=None)
    channel_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("channels.id", ondelete="SET NULL"), default=None)
    channel_kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str | None] = mapped_column(String(200), default=None)
    provider_id: Mapped[str | None] = mapped_column(String(200), default=None)
    kind: Mapped[str] = mapped_column(String(32))  # text|template|buttons|list|media|...
    category: Mapped[str] = mapped_column(String(32), default="service")
    content: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    text: Mapped[str] = mapped_column(Text, default="")  # searchable summary of the content
    reply_to: Mapped[str | None] = mapped_column(String(200), default=None)
    status: Mapped[str] = mapped_column(String(16))  # received|queued|sent|delivered|read|failed
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
    read_at: Mapped[datetime | None] = mapped_column(default=None)
    failed_at: Mapped[datetime | None] = mapped_column(default=None)
    error_code: Mapped[str | None] = mapped_column(String(64), default=None)
    error_reason: Mapped[str | None] = mapped_column(String(500), default=None)
    pricing_category: Mapped[str | None] = mapped_column(String(32), default=None)
    pricing_type: Mapped[str | None] = mapped_column(String(32), default=None)
    pricing_model: Mapped[str | None] = mapped_column(String(16), default=None)
    billable: Mapped[bool | None] = mapped_column(Boolean, default=None)
    free_entry_point: Mapped[bool] = mapped_column(Boolean, default=False)
    run_id: Mapped[str | None] = mapped_column(String(64), default=None)
    node_id: Mapped[str | None] = mapped_column(String(100), default=None)
