"""The messages table: record what goes out and comes in, apply delivery statuses, read a
contact's transcript, and the facts the contact rules need (last inbound, marketing counts)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from cauce import limits
from cauce.channels import registry, rules
from cauce.services.errors import Invalid
from cauce.store.models import Contact, Message

# A status only moves forward (a late "delivered" after "read" changes nothing); "failed"
# wins over everything but "read", which proves the contact saw it.
_RANK = {"queued": 0, "sent": 1, "delivered": 2, "read": 3, "failed": 2}
STATUS_COLUMNS = {"sent": "sent_at", "delivered": "delivered_at", "read": "read_at",
                  "failed": "failed_at"}


def summary_text(kind: str, content: dict[str, Any]) -> str:
    """A one-line text of any content, for transcripts and search."""
    for key in ("text", "body", "caption", "subject", "title"):
        value = content.get(key)
        if isinstance(value, str) and value:
            return value[:2000]
    if kind == "template":
        return f"[template {content.get('name', '')}]"
    if kind == "location":
        return f"[location {content.get('latitude')},{content.get('longitude')}]"
    return f"[{kind}]"


def record_outbound(
    session: Session, *, workspace_id: int, contact_id: int | None, channel_kind: str,
    key: str, kind: str, content: dict[str, Any], now: datetime, channel_id: int | None = None,
    category: str = "service", provider_id: str | None = None, status: str = "queued",
    run_id: str | None = None, node_id: str | None = None, error_code: str | None = None,
    error_reason: str | None = None,
) -> Message:
    """Record (or update, by ``key``) an outbound message. Idempotent on the key, so delivery
    may call it on every attempt: the first call creates, later ones update the outcome."""
    row = session.scalar(select(Message).where(Message.workspace_id == workspace_id,
                                               Message.key == key))
    if row is None:
        row = Message(workspace_id=workspace_id, direction="out", contact_id=contact_id,
                      channel_id=channel_id, channel_kind=channel_kind, key=key, kind=kind,
                      category=category, content=content, text=summary_text(kind, content),
                      status="queued", created_at=now, run_id=run_id, node_id=node_id)
        session.add(row)
    if provider_id:
        row.provider_id = provider_id
    newly_failed = status == "failed" and row.failed_at is None
    if status != "queued":
        _advance(row, status, now)
    if error_code or error_reason:
        row.error_code, row.error_reason = error_code, (error_reason or "")[:500]
    session.flush()
    if newly_failed:
        publish_failed(session, row, now)
    return row


def publish_failed(session: Session, row: Message, now: datetime) -> None:
    """The ``message.failed`` outbound webhook."""
    from cauce.services import webhook_subscriptions

    webhook_subscriptions.publish(
        session, row.workspace_id, "message.failed", {
            "id": row.id, "key": row.key, "contact_id": row.contact_id,
            "channel": row.channel_kind, "kind": row.kind, "text": row.text[:1000],
            "error_code": row.error_code, "error_reason": row.error_reason,
            "run_id": row.run_id, "node_id": row.node_id,
            "created_at": row.created_at.isoformat(),
        }, now, contact_id=row.contact_id, event_id=f"message-{row.id}-failed",
    )


def _advance(row: Message, status: str, at: datetime) -> bool:
    """Set the timestamp of ``status`` (first one wins) and move the status forward."""
    column = STATUS_COLUMNS.get(status)
    if column is None:
        return False
    changed = getattr(row, column) is None
    if changed:
        setattr(row, column, at)
    if _RANK.get(status, -1) > _RANK.get(row.status, -1) or (
            status == "failed" and row.status != "read"):
        row.status = status
    return changed


@dataclass(frozen=True)
class StatusApplied:
    message: Message
    new: bool  # False: this (message, status) was applied before (a webhook redelivery)


def find_outbound(session: Session, *, workspace_id: int, provider_id: str | None = None,
                  key: str | None = None) -> Message | None:
    conds = []
    if provider_id:
        conds.append(Message.provider_id == provider_id)
    if key:
        conds.append(Message.key == key)
    if not conds:
        return None
    return session.scalars(select(Message).where(
        Message.workspace_id == workspace_id, Message.direction == "out", or_(*conds))
        .order_by(Message.id)).first()


def apply_status(
    session: Session, *, workspace_id: int, status: str, at: datetime,
    provider_id: str | None = None, key: str | None = None, error_code: str | None = None,
    error_reason: str | None = None, pricing: dict[str, Any] | None = None,
) -> StatusApplied | None:
    """Apply a delivery status found by provider id or our key; ``None`` for a message we
    never sent (a number shared with another tool). Applying the same status twice is a
    no-op reported as ``new=False``, which is how status redeliveries are de-duplicated."""
    if status not in STATUS_COLUMNS:
        raise Invalid(f"status: '{status}' is not one of sent, delivered, read, failed",
                      field="status")
    row = find_outbound(session, workspace_id=workspace_id, provider_id=provider_id, key=key)
    if row is None:
        return None
    if provider_id and not row.provider_id:
        row.provider_id = provider_id
    new = _advance(row, status, at)
    if status == "failed" and new:
        row.error_code = error_code
        row.error_reason = (error_reason or "")[:500] or None
        session.flush()
        publish_failed(session, row, at)
    if pricing:
        row.pricing_category = pricing.get("category") or row.pricing_category
        row.pricing_type = pricing.get("type") or row.pricing_type
        row.pricing_model = pricing.get("pricing_model") or row.pricing_model
        if pricing.get("billable") is not None:
            row.billable = bool(pricing["billable"])
        if pricing.get("type") == "free_entry_point":
            row.free_entry_point = True
    session.flush()
    return StatusApplied(row, new)


def record_inbound(
    session: Session, *, workspace_id: int, contact_id: int | None, channel_kind: str,
    channel_id: int | None, provider_id: str, kind: str, content: dict[str, Any],
    received_at: datetime, reply_to: str | None = None, text: str | None = None,
) -> Message | None:
    """Store an inbound message; ``None`` when this provider id was stored before."""
    exists = session.scalar(select(Message.id).where(
        Message.workspace_id == workspace_id, Message.channel_kind == channel_kind,
        Message.direction == "in", Message.provider_id == provider_id))
    if exists is not None:
        return None
    row = Message(workspace_id=workspace_id, direction="in", contact_id=contact_id,
                  channel_id=channel_id, channel_kind=channel_kind, provider_id=provider_id,
                  kind=kind, content=content, reply_to=reply_to,
                  text=text if text is not None else summary_text(kind, content),
                  status="received", created_at=received_at)
    session.add(row)
    session.flush()
    return row


def transcript(session: Session, workspace_id: int, contact_id: int, *, limit: int = 200,
               before_id: int | None = None, channel_kind: str | None = None) -> list[Message]:
    """A contact's messages, oldest first (the last ``limit`` before ``before_id``)."""
    query = select(Message).where(Message.workspace_id == workspace_id,
                                  Message.contact_id == contact_id)
    if before_id:
        query = query.where(Message.id < before_id)
    if channel_kind:
        query = query.where(Message.channel_kind == channel_kind)
    rows = list(session.scalars(query.order_by(Message.id.desc()).limit(
        max(1, min(limit, limits.API_PAGE_SIZE_MAX)))))
    rows.reverse()
    return rows


def last_inbound_at(session: Session, workspace_id: int, contact_id: int,
                    channel_id: int | None = None, channel_kind: str | None = None
                    ) -> datetime | None:
    """When the contact last wrote to this number (the 24-hour window's start)."""
    query = select(func.max(Message.created_at)).where(
        Message.workspace_id == workspace_id, Message.contact_id == contact_id,
        Message.direction == "in")
    if channel_id is not None:
        query = query.where(Message.channel_id == channel_id)
    if channel_kind is not None:
        query = query.where(Message.channel_kind == channel_kind)
    value: datetime | None = session.scalar(query)
    return value


def marketing_sent_since(session: Session, workspace_id: int, contact_id: int,
                         since: datetime) -> int:
    """Marketing messages sent (not failed) to the contact since ``since``, on any channel."""
    count = session.scalar(select(func.count(Message.id)).where(
        Message.workspace_id == workspace_id, Message.contact_id == contact_id,
        Message.direction == "out", Message.category == "marketing",
        Message.created_at >= since, Message.status != "failed"))
    return int(count or 0)


def marketing_counts(session: Session, workspace_id: int, contact_id: int,
                     now: datetime) -> tuple[int, int]:
    """(last 24 hours, last 7 days) marketing messages, for the frequency caps."""
    return (marketing_sent_since(session, workspace_id, contact_id, now - timedelta(days=1)),
            marketing_sent_since(session, workspace_id, contact_id, now - timedelta(days=7)))


# --------------------------------------------------------------------------------------------
# Contact rules, with the facts gathered from the store
# --------------------------------------------------------------------------------------------


def check_rules(
    session: Session, *, workspace_id: int, contact_id: int, channel_kind: str,
    channel_id: int | None, kind: str, category: str, now: datetime,
    has_fallback: bool = False, respect_window: bool = False,
) -> rules.Decision:
    """What the contact rules say about sending this message now (the runtime calls this
    before every send; see :func:`cauce.channels.rules.decide`)."""
    from cauce.services.inbound import workspace_rules

    contact = session.get(Contact, contact_id)
    if contact is None or contact.workspace_id != workspace_id:
        return rules.Decision("fail", "the contact no longer exists", "no_contact")
    caps = registry.capabilities(channel_kind)
    flow_channel = {"sms_twilio": "sms", "sms_http": "sms"}.get(channel_kind, channel_kind)
    consent = (contact.consent or {}).get(flow_channel) or {}
    day, week = marketing_counts(session, workspace_id, contact_id, now) \
        if category == "marketing" else (0, 0)
    referral_at = _parse_time((contact.fields or {}).get("last_referral_at"))
    first_reply = None
    if referral_at is not None:
        first_reply = session.scalar(select(func.min(Message.created_at)).where(
            Message.workspace_id == workspace_id, Message.contact_id == contact_id,
            Message.direction == "out", Message.created_at >= referral_at))
    facts = rules.ContactFacts(
        phone=contact.phone, timezone=contact.timezone, country=contact.country,
        consent=consent if isinstance(consent, dict) else {},
        opted_out_marketing=bool(contact.opted_out_marketing),
        last_inbound_at=last_inbound_at(session, workspace_id, contact_id,
                                        channel_id=channel_id,
                                        channel_kind=None if channel_id else channel_kind),
        referral_at=referral_at, first_reply_after_referral_at=first_reply,
        marketing_last_day=day, marketing_last_week=week)
    return rules.decide(kind=kind, category=category, now=now, facts=facts,
                        config=workspace_rules(session, workspace_id),
                        window_hours=caps.window_hours, has_fallback=has_fallback,
                        respect_window=respect_window, channel=flow_channel)


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
