"""Business events: the events API (``POST /api/v1/events``), its sources and HMAC
signatures, and :func:`emit`, the one path by which the CRM hands events to flows."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cauce.engine.types import EventIn
from cauce.security import SecretBox, constant_time_equal
from cauce.services.auth import Principal, audit
from cauce.services.contacts import ContactIn, upsert_contact
from cauce.services.errors import Conflict, Invalid, NotFound, Unauthorized
from cauce.services.pagination import Page, paginate
from cauce.store.models import EventReceipt, EventSource

SIGNATURE_HEADER = "X-Cauce-Signature"
_EVENT_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")
_SOURCE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
DEFAULT_SOURCE = "api"


def emit(
    session: Session, workspace_id: int, contact_id: int, name: str, data: dict[str, Any],
    event_id: str, now: datetime,
) -> bool:
    """Hand an event to the runtime in the caller's transaction (processed after commit)."""
    from cauce.runtime.ingest import submit_input

    return submit_input(
        session, workspace_id=workspace_id, contact_id=contact_id,
        input=EventIn(name=name, data=data, event_id=event_id, occurred_at=now),
        dedupe_key=event_id[:200], now=now,
    )


class EventContact(BaseModel):
    """Who the event is about: at least one identifier. Unknown contacts are created."""

    model_config = ConfigDict(extra="forbid")

    phone: str | None = Field(default=None, max_length=40, examples=["+5491122334455"])
    email: str | None = Field(default=None, max_length=254, examples=["ana@example.com"])
    external_id: str | None = Field(default=None, max_length=128, examples=["shop-1042"])
    name: str | None = Field(default=None, max_length=200, examples=["Ana Pérez"])
    first_name: str | None = Field(default=None, max_length=100)
    last_name: str | None = Field(default=None, max_length=100)


class EventSubmit(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "cart.abandoned",
                    "event_id": "cart-9f1c",
                    "contact": {"phone": "+5491122334455", "first_name": "Ana"},
                    "data": {
                        "items": [{"sku": "TSHIRT-M", "title": "Remera", "qty": 2}],
                        "total": 25900.0,
                        "currency": "ARS",
                        "payment_link": "https://shop.example/pay/9f1c",
                    },
                }
            ]
        },
    )

    name: str = Field(
        max_length=100, examples=["cart.abandoned"],
        description="Dotted lowercase name: cart.abandoned, quote.unaccepted, order.delivered…",
    )
    event_id: str = Field(
        min_length=1, max_length=200,
        description="Your id for this event; sending it again is a no-op (idempotency).",
    )
    source: str = Field(default=DEFAULT_SOURCE, max_length=100, examples=["shop"])
    contact: EventContact
    data: dict[str, Any] = Field(default_factory=dict)
    occurred_at: datetime | None = None


@dataclass(frozen=True)
class EventAccepted:
    contact_id: int
    contact_created: bool
    duplicate: bool
    receipt_id: int


def sign(secret: str, body: bytes) -> str:
    """The signature a source sends: ``sha256=<hex HMAC-SHA256 of the raw body>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(
    session: Session, box: SecretBox, workspace_id: int, source: str, body: bytes,
    signature: str | None,
) -> None:
    """Sources with a secret must sign; sources without one (or unknown) need no signature."""
    row = session.scalar(
        select(EventSource).where(
            EventSource.workspace_id == workspace_id, EventSource.name == source
        )
    )
    if row is None or row.secret_encrypted is None:
        return
    if not signature:
        raise Unauthorized(
            f"source '{source}' requires a {SIGNATURE_HEADER}: sha256=<hex HMAC of the body>"
        )
    expected = sign(box.decrypt(row.secret_encrypted), body)
    if not constant_time_equal(expected, signature.strip()):
        raise Unauthorized(f"{SIGNATURE_HEADER} does not match the body for source '{source}'")


def submit_event(
    session: Session, workspace_id: int, event: EventSubmit, now: datetime
) -> EventAccepted:
    if not _EVENT_NAME.match(event.name):
        raise Invalid(
            "name: dotted lowercase like cart.abandoned or order.delivered", field="name"
        )
    if not _SOURCE_NAME.match(event.source):
        raise Invalid("source: lowercase letters, digits, - and _", field="source")
    existing = _receipt(session, workspace_id, event)
    if existing is not None:
        return EventAccepted(existing.contact_id or 0, False, True, existing.id)
    who = event.contact
    if not (who.phone or who.email or who.external_id):
        raise Invalid(
            "contact: give a phone, an email or an external_id", field="contact.phone"
        )
    # The receipt is written first: a concurrent delivery of the same event (a shop retrying
    # after a timeout) waits on its unique key and then answers "duplicate" instead of racing
    # to create the contact.
    receipt = EventReceipt(
        workspace_id=workspace_id, source=event.source, event_id=event.event_id,
        name=event.name, contact_id=None, received_at=now,
    )
    try:
        with session.begin_nested():
            session.add(receipt)
            session.flush()
    except IntegrityError:
        existing = _receipt(session, workspace_id, event)
        if existing is None:
            raise
        return EventAccepted(existing.contact_id or 0, False, True, existing.id)
    sent = who.model_dump(exclude_unset=True, exclude_none=True)
    contact, created = _contact_for(session, workspace_id, sent, now)
    receipt.contact_id = contact.id
    session.flush()
    emit(
        session, workspace_id, contact.id, event.name, event.data,
        f"event:{event.source}:{event.event_id}", event.occurred_at or now,
    )
    return EventAccepted(contact.id, created, False, receipt.id)


def _receipt(session: Session, workspace_id: int, event: EventSubmit) -> EventReceipt | None:
    return session.scalar(
        select(EventReceipt).where(
            EventReceipt.workspace_id == workspace_id, EventReceipt.source == event.source,
            EventReceipt.event_id == event.event_id,
        )
    )


def _contact_for(
    session: Session, workspace_id: int, sent: dict[str, Any], now: datetime
) -> tuple[Any, bool]:
    # Names given with an event fill blanks only: the shop's copy must not overwrite edits
    # made in the CRM.
    ids = {k: v for k, v in sent.items() if k in ("phone", "email", "external_id")}
    contact, created = upsert_contact(
        session, workspace_id, ContactIn(**ids), now, source="event"
    )
    names = {k: v for k, v in sent.items() if k not in ids and not getattr(contact, k)}
    if names:
        from cauce.services.contacts import update_contact

        contact = update_contact(session, workspace_id, contact.id, ContactIn(**names), now)
    return contact, created


def list_receipts(
    session: Session, workspace_id: int, *, limit: int | None, cursor: str | None,
    name: str | None = None,
) -> Page[EventReceipt]:
    stmt = select(EventReceipt).where(EventReceipt.workspace_id == workspace_id)
    if name:
        stmt = stmt.where(EventReceipt.name == name)
    return paginate(session, stmt, EventReceipt.id, limit, cursor)


# --------------------------------------------------------------------------------------------
# Sources
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreatedSource:
    source: EventSource
    secret: str | None  # shown once


def create_source(
    session: Session, box: SecretBox, principal: Principal, name: str, now: datetime,
    *, signed: bool = True,
) -> CreatedSource:
    workspace_id = principal.workspace_id
    if not _SOURCE_NAME.match(name):
        raise Invalid("name: lowercase letters, digits, - and _", field="name")
    exists = session.scalar(
        select(EventSource.id).where(
            EventSource.workspace_id == workspace_id, EventSource.name == name
        )
    )
    if exists is not None:
        raise Conflict(f"source '{name}' already exists", field="name")
    secret = "whsec_" + secrets.token_urlsafe(32) if signed else None
    row = EventSource(
        workspace_id=workspace_id, name=name,
        secret_encrypted=box.encrypt(secret) if secret else None, created_at=now,
    )
    session.add(row)
    session.flush()
    audit(session, principal, now, "event_source.created", f"event_source:{row.id}",
          name=name, signed=signed)
    return CreatedSource(row, secret)


def list_sources(
    session: Session, workspace_id: int, *, limit: int | None, cursor: str | None
) -> Page[EventSource]:
    stmt = select(EventSource).where(EventSource.workspace_id == workspace_id)
    return paginate(session, stmt, EventSource.id, limit, cursor)


def delete_source(
    session: Session, principal: Principal, source_id: int, now: datetime
) -> None:
    row = session.get(EventSource, source_id)
    if row is None or row.workspace_id != principal.workspace_id:
        raise NotFound(f"event source {source_id} not found")
    session.delete(row)
    audit(session, principal, now, "event_source.deleted", f"event_source:{source_id}",
          name=row.name)
