"""The messages table: record what goes out and comes in, apply delivery statuses, read a
contact's transcript, and the facts the contact rules need (last inbound, marketing counts)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Table,
    Text,
    any_,
    bindparam,
    case,
    func,
    or_,
    select,
)
from sqlalchemy import cast as sa_cast
from sqlalchemy.orm import Session
from sqlalchemy.types import ARRAY

from cauce import limits
from cauce.channels import registry, rules
from cauce.runtime import bulk
from cauce.runtime.bulk import id_in
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
@dataclass(frozen=True)
class OutboundRecord:
    """One outbound message outcome for :func:`record_outbound_many` (the arguments of
    :func:`record_outbound`)."""

    workspace_id: int
    contact_id: int | None
    channel_kind: str
    key: str
    kind: str
    content: dict[str, Any]
    category: str = "service"
    provider_id: str | None = None
    status: str = "queued"
    run_id: str | None = None
    node_id: str | None = None
    error_code: str | None = None
    error_reason: str | None = None
    channel_id: int | None = None


class _Values(dict[str, Any]):
    """A new row's column values with attribute access, so :func:`_advance` applies to it
    exactly as to a stored row."""

    def __getattr__(self, name: str) -> Any:
        return self.get(name)

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value


def record_outbound_many(session: Session, records: list[OutboundRecord], *,
                         now: datetime) -> None:
    """:func:`record_outbound` for a whole delivery batch: one query finds the keys recorded
    before (those are updated one by one, as :func:`record_outbound` would), and the new
    messages are inserted with one multi-row statement instead of an ORM flush each."""
    if not records:
        return
    wanted = {(r.workspace_id, r.key) for r in records}
    known = {(m.workspace_id, m.key) for m in session.execute(
        select(Message.workspace_id, Message.key).where(
            id_in(session, Message.workspace_id, {r.workspace_id for r in records}),
            _text_in(session, Message.key, {r.key for r in records})))
        if (m.workspace_id, m.key) in wanted}
    fresh: list[dict[str, Any]] = []
    for r in records:
        if (r.workspace_id, r.key) in known or r.status == "failed":
            # Updates, and failures (rare; they publish the ``message.failed`` webhook, which
            # needs the row's id), take the one-row path.
            record_outbound(
                session, workspace_id=r.workspace_id, contact_id=r.contact_id,
                channel_kind=r.channel_kind, key=r.key, kind=r.kind, content=r.content,
                now=now, channel_id=r.channel_id, category=r.category,
                provider_id=r.provider_id, status=r.status, run_id=r.run_id,
                node_id=r.node_id, error_code=r.error_code, error_reason=r.error_reason)
            continue
        known.add((r.workspace_id, r.key))
        row = _Values(
            workspace_id=r.workspace_id, direction="out", contact_id=r.contact_id,
            channel_id=r.channel_id, channel_kind=r.channel_kind, key=r.key, kind=r.kind,
            category=r.category, content=r.content, text=summary_text(r.kind, r.content),
            reply_to=None, status="queued", created_at=now, sent_at=None, delivered_at=None,
            read_at=None, failed_at=None, error_code=None, error_reason=None,
            provider_id=r.provider_id or None, pricing_category=None, pricing_type=None,
            pricing_model=None, billable=None, free_entry_point=False, run_id=r.run_id,
            node_id=r.node_id)
        if r.status != "queued":
            _advance(row, r.status, now)  # type: ignore[arg-type]
        if r.error_code or r.error_reason:
            row["error_code"], row["error_reason"] = r.error_code, (r.error_reason or "")[:500]
        fresh.append(dict(row))
    # One statement: a JSON recordset on PostgreSQL, an executemany on SQLite.
    bulk.insert_rows(session, cast(Table, Message.__table__), fresh)


def _text_in(session: Session, column: Any, values: set[str]) -> ColumnElement[bool]:
    """``column IN values`` for strings: on PostgreSQL one ``text[]`` parameter (``= ANY``),
    whose statement text, unlike an ``IN`` list's, does not change with the count (the driver
    re-parses every new text); an ``IN`` list on SQLite."""
    ordered = sorted(values)
    if not bulk.is_postgres(session):
        return column.in_(ordered)  # type: ignore[no-any-return]
    # The array's text form: every element quoted, backslashes and quotes escaped.
    literal = "{" + ",".join(
        '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in ordered) + "}"
    return column == any_(  # type: ignore[no-any-return]
        sa_cast(bindparam(None, literal, type_=Text()), ARRAY(Text())))


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


OUTBOUND_INDEX = "cauce_outbound_index"


class OutboundIndex:
    """The outbound messages a batch of webhooks may name (by provider id or our key), loaded
    with one query; while it is in ``session.info[OUTBOUND_INDEX]``, :func:`find_outbound`
    answers from it what it would have queried. Only for a transaction that creates no
    outbound message and changes no key meanwhile (a drained webhook batch)."""

    def __init__(self, session: Session, workspace_ids: set[int], provider_ids: set[str],
                 keys: set[str]) -> None:
        self.provider_ids, self.keys = provider_ids, keys
        self._by_provider: dict[tuple[int, str], Message] = {}
        self._by_key: dict[tuple[int, str], Message] = {}
        self._found: list[Message] = []  # may gain a provider id (apply_status sets it)
        conds = []
        if provider_ids:
            conds.append(Message.provider_id.in_(sorted(provider_ids)))
        if keys:
            conds.append(Message.key.in_(sorted(keys)))
        if not conds or not workspace_ids:
            return
        for row in session.scalars(select(Message).where(
                Message.workspace_id.in_(sorted(workspace_ids)), Message.direction == "out",
                or_(*conds)).order_by(Message.id.desc())):
            # Descending: the lowest id (find_outbound's first) is the one left in the maps.
            if row.provider_id:
                self._by_provider[(row.workspace_id, row.provider_id)] = row
            if row.key:
                self._by_key[(row.workspace_id, row.key)] = row

    def covers(self, provider_id: str | None, key: str | None) -> bool:
        return (not provider_id or provider_id in self.provider_ids) and \
            (not key or key in self.keys)

    def find(self, workspace_id: int, provider_id: str | None, key: str | None
             ) -> Message | None:
        found = [row for row in (
            self._by_provider.get((workspace_id, provider_id)) if provider_id else None,
            self._by_key.get((workspace_id, key)) if key else None) if row is not None]
        if provider_id:
            found += [row for row in self._found if row.provider_id == provider_id
                      and row.workspace_id == workspace_id]
        if not found:
            return None
        first = min(found, key=lambda row: row.id)
        self._found.append(first)
        return first


def find_outbound(session: Session, *, workspace_id: int, provider_id: str | None = None,
                  key: str | None = None) -> Message | None:
    index = session.info.get(OUTBOUND_INDEX)
    if isinstance(index, OutboundIndex) and index.covers(provider_id, key) and \
            (provider_id or key):
        return index.find(workspace_id, provider_id, key)
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
    row = Message(**inbound_values(
        workspace_id=workspace_id, contact_id=contact_id, channel_kind=channel_kind,
        channel_id=channel_id, provider_id=provider_id, kind=kind, content=content,
        received_at=received_at, reply_to=reply_to, text=text))
    session.add(row)
    session.flush()
    return row


def inbound_values(
    *, workspace_id: int, contact_id: int | None, channel_kind: str, channel_id: int | None,
    provider_id: str, kind: str, content: dict[str, Any], received_at: datetime,
    reply_to: str | None = None, text: str | None = None,
) -> dict[str, Any]:
    """The column values of a new inbound message (:func:`record_inbound` stores one; a
    drained batch of webhooks inserts many with one statement)."""
    return {"workspace_id": workspace_id, "direction": "in", "contact_id": contact_id,
            "channel_id": channel_id, "channel_kind": channel_kind, "provider_id": provider_id,
            "kind": kind, "content": content, "reply_to": reply_to,
            "text": text if text is not None else summary_text(kind, content),
            "status": "received", "created_at": received_at}


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


@dataclass(frozen=True)
class RulesQuery:
    """One send the contact rules must judge (see :func:`check_rules_many`)."""

    workspace_id: int
    contact_id: int
    channel_kind: str
    channel_id: int | None
    kind: str
    category: str
    has_fallback: bool = False
    respect_window: bool = False


def check_rules(
    session: Session, *, workspace_id: int, contact_id: int, channel_kind: str,
    channel_id: int | None, kind: str, category: str, now: datetime,
    has_fallback: bool = False, respect_window: bool = False,
) -> rules.Decision:
    """What the contact rules say about sending this message now (see
    :func:`cauce.channels.rules.decide`). One send; delivery judges its whole batch with
    :func:`check_rules_many`, which this calls."""
    return check_rules_many(session, [RulesQuery(
        workspace_id=workspace_id, contact_id=contact_id, channel_kind=channel_kind,
        channel_id=channel_id, kind=kind, category=category, has_fallback=has_fallback,
        respect_window=respect_window)], now=now)[0]


def check_rules_many(session: Session, queries: list[RulesQuery], *,
                     now: datetime) -> list[rules.Decision]:
    """The contact rules' decisions for many sends at once (the runtime calls this for each
    delivery batch before anything is sent). The facts are gathered with a few set queries
    for the whole batch (contacts, last inbound per contact and number, marketing counts), not
    a handful per send; each decision is exactly what a lone check would say."""
    from cauce.services.inbound import workspace_rules

    if not queries:
        return []
    contact_ids = sorted({q.contact_id for q in queries})
    contacts = {c.id: c for c in session.execute(
        select(Contact.id, Contact.workspace_id, Contact.phone, Contact.timezone,
               Contact.country, Contact.consent, Contact.opted_out_marketing, Contact.fields)
        .where(id_in(session, Contact.id, contact_ids)))}
    live = [q for q in queries
            if (c := contacts.get(q.contact_id)) is not None and c.workspace_id == q.workspace_id]
    last_in = _last_inbound_many(session, live)
    marketing = _marketing_counts_many(
        session, {(q.workspace_id, q.contact_id) for q in live if q.category == "marketing"}, now)
    configs: dict[int, rules.RulesConfig] = {}
    first_replies: dict[tuple[int, int], datetime | None] = {}
    out: list[rules.Decision] = []
    for q in queries:
        contact = contacts.get(q.contact_id)
        if contact is None or contact.workspace_id != q.workspace_id:
            out.append(rules.Decision("fail", "the contact no longer exists", "no_contact"))
            continue
        caps = registry.capabilities(q.channel_kind)
        flow_channel = {"sms_twilio": "sms", "sms_http": "sms"}.get(q.channel_kind,
                                                                    q.channel_kind)
        consent = (contact.consent or {}).get(flow_channel) or {}
        day, week = marketing.get((q.workspace_id, q.contact_id), (0, 0)) \
            if q.category == "marketing" else (0, 0)
        referral_at = _parse_time((contact.fields or {}).get("last_referral_at"))
        first_reply = None
        if referral_at is not None:
            # Only contacts who came from a click-to-WhatsApp ad: rare, one query each.
            pair = (q.workspace_id, q.contact_id)
            if pair not in first_replies:
                first_replies[pair] = session.scalar(select(func.min(Message.created_at)).where(
                    Message.workspace_id == q.workspace_id, Message.contact_id == q.contact_id,
                    Message.direction == "out", Message.created_at >= referral_at))
            first_reply = first_replies[pair]
        if q.workspace_id not in configs:
            configs[q.workspace_id] = workspace_rules(session, q.workspace_id)
        facts = rules.ContactFacts(
            phone=contact.phone, timezone=contact.timezone, country=contact.country,
            consent=consent if isinstance(consent, dict) else {},
            opted_out_marketing=bool(contact.opted_out_marketing),
            last_inbound_at=last_in.get(_inbound_key(q)),
            referral_at=referral_at, first_reply_after_referral_at=first_reply,
            marketing_last_day=day, marketing_last_week=week)
        out.append(rules.decide(
            kind=q.kind, category=q.category, now=now, facts=facts,
            config=configs[q.workspace_id], window_hours=caps.window_hours,
            has_fallback=q.has_fallback, respect_window=q.respect_window, channel=flow_channel))
    return out


def _inbound_key(q: RulesQuery) -> tuple[Any, ...]:
    # The window is per number: by channel id when known, else by channel kind.
    if q.channel_id is not None:
        return (q.workspace_id, q.contact_id, "id", q.channel_id)
    return (q.workspace_id, q.contact_id, "kind", q.channel_kind)


def _last_inbound_many(session: Session, queries: list[RulesQuery]
                       ) -> dict[tuple[Any, ...], datetime]:
    """:func:`last_inbound_at` for many (contact, number) pairs: one grouped query per way
    of naming the number."""
    out: dict[tuple[Any, ...], datetime] = {}
    by_id = [q for q in queries if q.channel_id is not None]
    by_kind = [q for q in queries if q.channel_id is None]
    base = (Message.direction == "in",)
    if by_id:
        for (ws_id, contact_id, channel_id), at in last_inbound_many(
                session, {(q.workspace_id, q.contact_id, q.channel_id) for q in by_id
                          if q.channel_id is not None}).items():
            out[(ws_id, contact_id, "id", channel_id)] = at
    if by_kind:
        for ws, contact, kind, at in session.execute(
            select(Message.workspace_id, Message.contact_id, Message.channel_kind,
                   func.max(Message.created_at))
            .where(*base, id_in(session, Message.contact_id, {q.contact_id for q in by_kind}),
                   Message.channel_kind.in_(sorted({q.channel_kind for q in by_kind})))
            .group_by(Message.workspace_id, Message.contact_id, Message.channel_kind)
        ):
            out[(ws, contact, "kind", kind)] = at
    return out


def last_inbound_many(session: Session, numbers: set[tuple[int, int, int]]
                      ) -> dict[tuple[int, int, int], datetime]:
    """:func:`last_inbound_at` for many ``(workspace_id, contact_id, channel_id)`` at once
    (one grouped query); a pair with no inbound message is absent."""
    if not numbers:
        return {}
    out: dict[tuple[int, int, int], datetime] = {}
    for ws, contact, channel_id, at in session.execute(
        select(Message.workspace_id, Message.contact_id, Message.channel_id,
               func.max(Message.created_at))
        .where(Message.direction == "in",
               id_in(session, Message.contact_id, {c for _, c, _ in numbers}),
               id_in(session, Message.channel_id, {n for _, _, n in numbers}))
        .group_by(Message.workspace_id, Message.contact_id, Message.channel_id)
    ):
        number = (ws, int(contact or 0), int(channel_id or 0))
        if number in numbers:
            out[number] = at
    return out


def _marketing_counts_many(session: Session, pairs: set[tuple[int, int]], now: datetime
                           ) -> dict[tuple[int, int], tuple[int, int]]:
    """:func:`marketing_counts` for many contacts in one grouped query."""
    if not pairs:
        return {}
    day_ago, week_ago = now - timedelta(days=1), now - timedelta(days=7)
    in_day = func.sum(case((Message.created_at >= day_ago, 1), else_=0))
    out: dict[tuple[int, int], tuple[int, int]] = {}
    for ws, contact, day, week in session.execute(
        select(Message.workspace_id, Message.contact_id, in_day, func.count(Message.id))
        .where(id_in(session, Message.contact_id, {c for _, c in pairs}),
               Message.direction == "out", Message.category == "marketing",
               Message.created_at >= week_ago, Message.status != "failed")
        .group_by(Message.workspace_id, Message.contact_id)
    ):
        out[(ws, contact)] = (int(day or 0), int(week or 0))
    return out


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
