"""Outbound webhook subscriptions: CRUD, and :func:`publish`, which turns a business change
into one outbox row per subscription that wants it.

Delivery is the runtime's (``cauce.runtime.effects.webhooks``): the row is written in the
transaction that made the change, so a rolled-back change sends nothing, and it goes out after
commit with the outbox's retries, backoff and dead letters. The body is fixed when the row is
written (retries send the same bytes); the signature covers a timestamp taken at each attempt:

    X-Cauce-Event: contact.created
    X-Cauce-Delivery: <unique id of this delivery; the same on every retry>
    X-Cauce-Timestamp: <unix seconds of this attempt>
    X-Cauce-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + raw body)>

A receiver recomputes the HMAC over the timestamp, a dot and the raw body bytes, compares in
constant time, refuses timestamps older than a few minutes (replay), and de-duplicates on
``X-Cauce-Delivery`` (a retry after a lost answer repeats it).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from cauce.security import SecretBox
from cauce.services.auth import Principal, audit
from cauce.services.errors import Invalid, NotFound
from cauce.services.pagination import Page, paginate
from cauce.store.models import OutboxItem, WebhookSubscription
from cauce.store.models.runtime import OUTBOX_PENDING, PRIORITY_NORMAL

EVENTS = (
    "contact.created", "contact.updated", "opportunity.changed", "ticket.opened",
    "flow.goal_reached", "message.failed",
)
OUTBOX_KIND = "webhook_event"
EVENT_HEADER = "X-Cauce-Event"
DELIVERY_HEADER = "X-Cauce-Delivery"
TIMESTAMP_HEADER = "X-Cauce-Timestamp"
SIGNATURE_HEADER = "X-Cauce-Signature"
MAX_SUBSCRIPTIONS = 50
_CACHE = "webhook_subscriptions"


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(
        default=None, max_length=2000, examples=["https://hooks.example.com/cauce"],
        description="http(s) URL. Private and loopback addresses are refused at delivery "
        "unless the host is in the workspace's `http_allowed_hosts`.",
    )
    events: list[str] | None = Field(
        default=None, max_length=len(EVENTS), examples=[["contact.created", "ticket.opened"]],
        description="Any of: " + ", ".join(EVENTS) + ".",
    )
    description: str | None = Field(default=None, max_length=500)
    active: bool | None = None


@dataclass(frozen=True)
class Created:
    subscription: WebhookSubscription
    secret: str  # shown once


def _check_url(url: str) -> str:
    url = url.strip()
    try:
        parts = urlsplit(url)
        host, _ = parts.hostname, parts.port
    except ValueError:
        raise Invalid("url: not a valid URL (host or port)", field="url") from None
    if parts.scheme not in ("http", "https") or not host:
        raise Invalid("url: an http:// or https:// URL with a host", field="url")
    if any(ch.isspace() for ch in url):
        raise Invalid("url: must not contain spaces", field="url")
    return url


def _check_events(events: list[str]) -> list[str]:
    unknown = [e for e in events if e not in EVENTS]
    if unknown:
        raise Invalid(f"events: unknown '{unknown[0]}'; use {', '.join(EVENTS)}", field="events")
    if not events:
        raise Invalid("events: subscribe to at least one event", field="events")
    return list(dict.fromkeys(events))


def create(
    session: Session, box: SecretBox, principal: Principal, data: SubscriptionIn, now: datetime,
) -> Created:
    if data.url is None:
        raise Invalid("url: required", field="url")
    if data.events is None:
        raise Invalid("events: required", field="events")
    url, events = _check_url(data.url), _check_events(data.events)
    count = len(session.scalars(select(WebhookSubscription.id).where(
        WebhookSubscription.workspace_id == principal.workspace_id)).all())
    if count >= MAX_SUBSCRIPTIONS:
        raise Invalid(f"at most {MAX_SUBSCRIPTIONS} webhook subscriptions per workspace",
                      field="url")
    secret = "whsec_" + secrets.token_urlsafe(32)
    row = WebhookSubscription(
        workspace_id=principal.workspace_id, url=url, events=events,
        description=data.description or "", secret_encrypted=box.encrypt(secret),
        active=True if data.active is None else data.active, created_at=now, updated_at=now,
    )
    session.add(row)
    session.flush()
    session.info.pop(_CACHE, None)
    audit(session, principal, now, "webhook_subscription.created",
          f"webhook_subscription:{row.id}", url=url, events=events)
    return Created(row, secret)


def get(session: Session, workspace_id: int, subscription_id: int) -> WebhookSubscription:
    row = session.get(WebhookSubscription, subscription_id)
    if row is None or row.workspace_id != workspace_id:
        raise NotFound(f"webhook subscription {subscription_id} not found")
    return row


def update(
    session: Session, principal: Principal, subscription_id: int, data: SubscriptionIn,
    now: datetime,
) -> WebhookSubscription:
    row = get(session, principal.workspace_id, subscription_id)
    if data.url is not None:
        row.url = _check_url(data.url)
    if data.events is not None:
        row.events = _check_events(data.events)
    if data.description is not None:
        row.description = data.description
    if data.active is not None:
        row.active = data.active
    row.updated_at = now
    session.flush()
    session.info.pop(_CACHE, None)
    audit(session, principal, now, "webhook_subscription.updated",
          f"webhook_subscription:{row.id}", **data.model_dump(exclude_none=True))
    return row


def rotate_secret(
    session: Session, box: SecretBox, principal: Principal, subscription_id: int, now: datetime,
) -> Created:
    """A new secret (shown once); deliveries not yet attempted are signed with it."""
    row = get(session, principal.workspace_id, subscription_id)
    secret = "whsec_" + secrets.token_urlsafe(32)
    row.secret_encrypted = box.encrypt(secret)
    row.updated_at = now
    audit(session, principal, now, "webhook_subscription.secret_rotated",
          f"webhook_subscription:{row.id}")
    return Created(row, secret)


def delete(session: Session, principal: Principal, subscription_id: int, now: datetime) -> None:
    row = get(session, principal.workspace_id, subscription_id)
    session.delete(row)
    session.info.pop(_CACHE, None)
    audit(session, principal, now, "webhook_subscription.deleted",
          f"webhook_subscription:{subscription_id}", url=row.url)


def list_subscriptions(
    session: Session, workspace_id: int, *, limit: int | None, cursor: str | None,
) -> Page[WebhookSubscription]:
    stmt = select(WebhookSubscription).where(WebhookSubscription.workspace_id == workspace_id)
    return paginate(session, stmt, WebhookSubscription.id, limit, cursor)


# --------------------------------------------------------------------------------------------
# Publishing and signing
# --------------------------------------------------------------------------------------------


def _subscribers(session: Session, workspace_id: int) -> list[tuple[int, list[str]]]:
    """Active subscriptions of the workspace, cached for the transaction: an import of
    thousands of contacts asks once, not once per contact."""
    cache: dict[int, list[tuple[int, list[str]]]] = session.info.setdefault(_CACHE, {})
    if workspace_id not in cache:
        cache[workspace_id] = [
            (sid, list(events or [])) for sid, events in session.execute(
                select(WebhookSubscription.id, WebhookSubscription.events).where(
                    WebhookSubscription.workspace_id == workspace_id,
                    WebhookSubscription.active.is_(True),
                ).order_by(WebhookSubscription.id))
        ]
    return cache[workspace_id]


def wanted(session: Session, workspace_id: int, event: str) -> bool:
    """Whether any active subscription of the workspace wants ``event`` (lets bulk writers
    skip building payloads nobody receives)."""
    return any(event in events for _, events in _subscribers(session, workspace_id))


def publish(
    session: Session, workspace_id: int, event: str, data: dict[str, Any], now: datetime, *,
    contact_id: int | None = None, event_id: str | None = None,
) -> int:
    """Queue ``event`` for every active subscription of the workspace that wants it, in the
    caller's transaction. Returns how many deliveries were queued."""
    if event not in EVENTS:
        raise ValueError(f"unknown webhook event '{event}'")
    targets = [sid for sid, events in _subscribers(session, workspace_id) if event in events]
    if not targets:
        return 0
    event_id = event_id or uuid.uuid4().hex
    body = json.dumps(
        {"id": event_id, "event": event, "created_at": now.isoformat(),
         "workspace_id": workspace_id, "data": data},
        ensure_ascii=False, separators=(",", ":"), sort_keys=True, default=str,
    )
    wall = datetime.now(UTC)  # delivery timing runs on the real clock (see the processor)
    rows = [{
        "workspace_id": workspace_id, "contact_id": contact_id or 0, "run_id": None,
        "key": f"webhook:{sid}:{event_id}"[:120], "kind": OUTBOX_KIND, "channel": "webhook",
        "payload": {"subscription_id": sid, "event": event, "event_id": event_id,
                    "body": body},
        "priority": PRIORITY_NORMAL, "status": OUTBOX_PENDING, "attempts": 0, "uncertain": 0,
        "next_attempt_at": wall, "created_at": now, "updated_at": now,
    } for sid in targets]
    session.execute(insert(OutboxItem), rows)
    from cauce.runtime.wakeup import OUTBOX_CHANNEL, notify_after_commit

    notify_after_commit(session, OUTBOX_CHANNEL)
    return len(rows)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256 keyed with the secret over ``b"<timestamp>." + body``."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, header: str, *, now: float,
           tolerance: float = 300.0) -> bool:
    """What a receiver does (also used by the tests): constant-time compare and a bounded
    clock skew, so a captured request cannot be replayed later."""
    if not timestamp.isdigit() or abs(now - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, int(timestamp), body), header)


# --------------------------------------------------------------------------------------------
# Event payloads (the contract documented in docs/crm.md)
# --------------------------------------------------------------------------------------------


def contact_data(contact: Any) -> dict[str, Any]:
    return {
        "id": contact.id, "phone": contact.phone, "email": contact.email,
        "external_id": contact.external_id, "name": contact.name,
        "first_name": contact.first_name, "last_name": contact.last_name,
        "language": contact.language, "country": contact.country, "tags": list(contact.tags),
        "fields": dict(contact.fields), "lead_score": contact.lead_score,
        "source": contact.source,
    }
