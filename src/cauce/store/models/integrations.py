"""Integrations: outbound webhook subscriptions (the CRM's and the runtime's events, signed
and delivered through the outbox)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cauce.store.base import Base, JsonType, WorkspaceScoped


class WebhookSubscription(WorkspaceScoped, Base):
    """Where to POST which events. The signing secret is a :class:`cauce.security.SecretBox`
    ciphertext: it is shown once at creation and needed again at every delivery."""

    __tablename__ = "webhook_subscriptions"

    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list[str]] = mapped_column(JsonType, default=list)
    description: Mapped[str] = mapped_column(String(500), default="")
    secret_encrypted: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
