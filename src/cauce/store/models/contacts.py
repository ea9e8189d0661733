"""Contacts: the people flows talk to, with the CRM's attributes (consent, attribution, score)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cauce.store.base import Base, BigId, JsonType, WorkspaceScoped


class Contact(WorkspaceScoped, Base):
    """One person. ``phone`` is E.164, ``email`` is lower-cased; each identifier is unique per
    workspace so imports and the events API can upsert on it.

    ``consent`` is per channel: ``{"whatsapp": {"status": "opted_in", "source": "form",
    "at": "2026-03-02T12:00:00Z"}}``. ``attribution`` is the first touch only (never
    overwritten): ``{"source": "ad", "referral": {...}, "utm": {...}, "at": ...}``; its UTM
    parts and ad id are copied into columns so segments filter on them without JSON paths.
    A merged-away duplicate keeps its row (other tables may still point at it) with
    ``merged_into_id`` set and its identifiers cleared; lists and lookups skip it.
    """

    __tablename__ = "contacts"
    __table_args__ = (
        UniqueConstraint("workspace_id", "phone"),
        UniqueConstraint("workspace_id", "external_id"),
        UniqueConstraint("workspace_id", "email"),
        Index("ix_contacts_workspace_score", "workspace_id", "lead_score"),
        Index("ix_contacts_workspace_inbound", "workspace_id", "last_inbound_at"),
        Index("ix_contacts_workspace_created", "workspace_id", "created_at"),
    )

    phone: Mapped[str | None] = mapped_column(String(20), default=None)  # E.164
    email: Mapped[str | None] = mapped_column(String(254), default=None)
    external_id: Mapped[str | None] = mapped_column(String(128), default=None)
    name: Mapped[str] = mapped_column(String(200), default="")
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    language: Mapped[str | None] = mapped_column(String(8), default=None)
    country: Mapped[str | None] = mapped_column(String(2), default=None)
    timezone: Mapped[str | None] = mapped_column(String(64), default=None)
    fields: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    tags: Mapped[list[str]] = mapped_column(JsonType, default=list)
    lead_score: Mapped[int] = mapped_column(Integer, default=0)
    consent: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    opted_out_marketing: Mapped[bool] = mapped_column(Boolean, default=False)
    opted_out_marketing_at: Mapped[datetime | None] = mapped_column(default=None)
    attribution: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    utm_source: Mapped[str | None] = mapped_column(String(200), default=None)
    utm_medium: Mapped[str | None] = mapped_column(String(200), default=None)
    utm_campaign: Mapped[str | None] = mapped_column(String(200), default=None)
    ad_id: Mapped[str | None] = mapped_column(String(100), default=None)
    source: Mapped[str] = mapped_column(String(32), default="api")  # api|import|event|inbound|ui
    last_inbound_at: Mapped[datetime | None] = mapped_column(default=None)
    last_outbound_at: Mapped[datetime | None] = mapped_column(default=None)
    merged_into_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("contacts.id", ondelete="SET NULL"), default=None,
    )
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ContactField(WorkspaceScoped, Base):
    """A typed custom field definition; values live in ``Contact.fields[key]``."""

    __tablename__ = "contact_fields"
    __table_args__ = (UniqueConstraint("workspace_id", "key"),)

    key: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200), default="")
    type: Mapped[str] = mapped_column(String(16))  # text|number|date|boolean|choice
    choices: Mapped[list[str]] = mapped_column(JsonType, default=list)
    created_at: Mapped[datetime]
