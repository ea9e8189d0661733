"""Inbound webhooks: WhatsApp, Twilio SMS, generic SMS providers, email bounces.

WhatsApp webhooks are stored raw by the route once :func:`verify_whatsapp` accepts them
(``cauce.runtime.webhook_inbox``) and parsed by the runtime with :func:`handle_whatsapp`; the
other providers are handled in the request. Either way a webhook is verified first, then all
its work happens in one transaction:
messages and statuses are stored, contacts found or created, and the run inputs submitted
(``cauce.runtime.ingest.submit_input``), which workers process after commit. Each item is
processed inside a savepoint, so one bad message is logged and skipped while the rest of the
batch is kept. A drained batch of stored WhatsApp webhooks is parsed set-based instead
(:func:`handle_whatsapp_batch`: the same steps, their lookups and inserts made once for the
batch; the drain falls back to webhook by webhook when that fails). Redeliveries are
recognised (inbound: provider message id; statuses: the (message, status) pair already
applied) and change nothing.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Table, event, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, object_session

from cauce import limits
from cauce.channels import rules
from cauce.channels.base import ErrorAction
from cauce.channels.sms_http import dig
from cauce.channels.sms_twilio import STATUS_MAP as TWILIO_STATUS
from cauce.channels.sms_twilio import verify_twilio
from cauce.channels.whatsapp import webhook as wa
from cauce.channels.whatsapp.errors import map_error
from cauce.engine.types import DeliveryStatus, MessageIn
from cauce.logging import get_logger
from cauce.security import SecretBox, constant_time_equal
from cauce.services import contacts as contact_service
from cauce.services import messages as message_service
from cauce.services.channels import TEMPLATE_STATUSES, mark_broken, secrets_of
from cauce.services.container import Cauce
from cauce.services.errors import Invalid, ServiceError
from cauce.store.models import Channel, Contact, Message, WhatsAppTemplate, Workspace

log = get_logger(__name__)


@dataclass
class WebhookResult:
    """What a webhook did; ``status_code`` is what the provider is answered."""

    status_code: int = 200
    error: str = ""
    messages: int = 0
    statuses: int = 0
    duplicates: int = 0
    ignored: int = 0
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"messages": self.messages, "statuses": self.statuses,
                "duplicates": self.duplicates, "ignored": self.ignored,
                "problems": self.problems}


# --------------------------------------------------------------------------------------------
# Shared steps
# --------------------------------------------------------------------------------------------


def _submit(session: Session, *, workspace_id: int, contact_id: int, input: Any,
            dedupe_key: str, now: datetime) -> bool:
    from cauce.runtime.ingest import PendingInput, submit_input

    batch = session.info.get(_BATCH)
    if isinstance(batch, _Batch):  # stored with the batch's other inputs, in this order
        batch.inputs.append(PendingInput(workspace_id, contact_id, input, dedupe_key, now))
        return True
    return submit_input(session, workspace_id=workspace_id, contact_id=contact_id, input=input,
                        dedupe_key=dedupe_key, now=now)


def find_or_create_contact(session: Session, workspace_id: int, *, phone: str | None = None,
                           email: str | None = None, name: str | None, now: datetime) -> Contact:
    """The contact who wrote (by phone or email), created on first contact. A profile name
    fills the contact's name only when it has none: what the business typed wins."""
    e164 = _e164(phone)
    found = contact_service.find_by_identifiers(session, workspace_id, phone=e164, email=email)
    if found:
        return _fill_name(found[0], name)
    try:
        return contact_service.create_contact(
            session, workspace_id, _new_contact_data(e164, email, name), now, source="inbound")
    except Invalid:
        contact = _unknown_number_contact(session, workspace_id, e164, email, name, now)
        session.add(contact)
        session.flush()
        contact_service.publish_contact(session, contact, "contact.created", now)
        return contact


def _e164(phone: str | None) -> str | None:
    return f"+{phone.lstrip('+')}" if phone else None


def _fill_name(contact: Contact, name: str | None) -> Contact:
    """A profile name fills the name of a contact who has none."""
    if name and not contact.name:
        contact.name = name
        contact.first_name = contact.first_name or name.split(" ", 1)[0]
    return contact


def _new_contact_data(e164: str | None, email: str | None,
                      name: str | None) -> contact_service.ContactIn:
    return contact_service.ContactIn(phone=e164, email=email, name=name or None,
                                     first_name=(name or "").split(" ", 1)[0] or None)


def _unknown_number_contact(session: Session, workspace_id: int, e164: str | None,
                            email: str | None, name: str | None, now: datetime) -> Contact:
    """The new contact of a number phonenumbers does not know yet (its message must still get
    through), not added to the session."""
    ws = session.get(Workspace, workspace_id)
    return Contact(workspace_id=workspace_id, phone=e164, email=email, name=name or "",
                   first_name=(name or "").split(" ", 1)[0], fields={}, tags=[],
                   consent={}, attribution={}, lead_score=0, opted_out_marketing=False,
                   source="inbound", timezone=ws.timezone if ws else None,
                   created_at=now, updated_at=now)


def _set_marketing_opt_out(contact: Contact, opted_out: bool, now: datetime,
                           source: str) -> None:
    if opted_out and not contact.opted_out_marketing:
        contact.opted_out_marketing_at = now
    contact.opted_out_marketing = opted_out
    consent = dict(contact.consent or {})
    consent["marketing"] = {"status": "opted_out" if opted_out else "opted_in",
                            "source": source, "at": now.isoformat()}
    contact.consent = consent
    contact.updated_at = now


BATCH_MEMO = "cauce_batch_memo"


def workspace_rules(session: Session, workspace_id: int) -> rules.RulesConfig:
    # A drained batch of webhooks (``session.info[BATCH_MEMO]``, see runtime.webhook_inbox)
    # builds each workspace's rules once and keeps the workspace row loaded for the batch
    # (the identity map holds rows weakly: without it every message reloads it).
    memo: dict[Any, Any] | None = session.info.get(BATCH_MEMO)
    if memo is not None and ("rules", workspace_id) in memo:
        cached: rules.RulesConfig = memo[("rules", workspace_id)]
        return cached
    ws = session.get(Workspace, workspace_id)
    settings = (ws.settings or {}) if ws else {}
    raw = settings.get("contact_rules") if isinstance(settings, dict) else None
    try:
        config = rules.RulesConfig.from_settings(
            raw if isinstance(raw, dict) else {}, timezone=ws.timezone if ws else "UTC",
            country=ws.country if ws else None)
    except ValueError as exc:
        log.warning("contact_rules_invalid", workspace_id=workspace_id, error=str(exc))
        config = rules.RulesConfig(timezone=ws.timezone if ws else "UTC",
                                   country=ws.country if ws else None)
    if memo is not None:
        memo[("rules", workspace_id)], memo[("workspace", workspace_id)] = config, ws
    return config


@dataclass
class Incoming:
    """One inbound message in channel-neutral terms, ready to store and submit."""

    channel: Channel
    flow_channel: str  # the name flows use: whatsapp, sms, simulator, email
    provider_id: str
    sender: str  # phone (digits or E.164) or e-mail address
    received_at: datetime
    kind: str
    text: str = ""
    content: dict[str, Any] = field(default_factory=dict)
    reply_to: str | None = None
    button_id: str | None = None
    button_title: str | None = None
    media: dict[str, Any] | None = None
    location: dict[str, Any] | None = None
    referral: dict[str, Any] | None = None
    profile_name: str | None = None


def accept_message(session: Session, item: Incoming, now: datetime) -> bool:
    """Store one inbound message and hand it to the runtime; False for a redelivery."""
    ws_id = item.channel.workspace_id
    batch = session.info.get(_BATCH)
    if isinstance(batch, _Batch):  # found or created with the batch's other senders
        contact = _fill_name(batch.contacts[(ws_id, _e164(item.sender))],
                             item.profile_name)
        previous_inbound = batch.last_inbound.get((ws_id, contact.id, item.channel.id))
    else:
        is_email = "@" in item.sender
        contact = find_or_create_contact(
            session, ws_id, phone=None if is_email else item.sender,
            email=item.sender if is_email else None, name=item.profile_name, now=now)
        previous_inbound = message_service.last_inbound_at(session, ws_id, contact.id,
                                                           channel_id=item.channel.id)
    reply_key = item.reply_to
    if item.reply_to:
        ours = message_service.find_outbound(session, workspace_id=ws_id,
                                             provider_id=item.reply_to)
        if ours is not None and ours.key:
            reply_key = ours.key  # runs wait on our key, not Meta's wamid
    content = dict(item.content)
    if item.referral:
        content["referral"] = item.referral
    inbound: dict[str, Any] = {"workspace_id": ws_id, "contact_id": contact.id,
               "channel_kind": item.channel.kind, "channel_id": item.channel.id,
               "provider_id": item.provider_id, "kind": item.kind, "content": content,
               "received_at": item.received_at, "reply_to": item.reply_to, "text": item.text}
    if isinstance(batch, _Batch):
        if not batch.record_inbound(message_service.inbound_values(**inbound)):
            return False
    elif message_service.record_inbound(session, **inbound) is None:
        return False
    contact_service.record_activity(session, ws_id, contact.id, "in", item.received_at)
    if item.referral:
        contact_service.update_contact(session, ws_id, contact.id, contact_service.ContactIn(
            attribution=contact_service.AttributionIn(source="ad", referral=item.referral)), now)
        fields = dict(contact.fields or {})
        # The latest ad click (attribution keeps the first): the free entry point starts here.
        fields["last_referral_at"] = item.received_at.isoformat()
        contact.fields = fields
    keyword = rules.keyword_action(item.text, workspace_rules(session, ws_id)) \
        if item.kind in ("text", "sms", "email") else None
    if keyword is not None:
        _set_marketing_opt_out(contact, keyword == "stop", now, f"keyword:{item.flow_channel}")
    first = previous_inbound is None or item.received_at - previous_inbound >= timedelta(
        hours=limits.WHATSAPP_WINDOW_HOURS)
    message_in = MessageIn(
        channel=item.flow_channel, text=item.text, message_id=item.provider_id,
        reply_to=reply_key, button_id=item.button_id, button_title=item.button_title,
        media=item.media, location=item.location, referral=item.referral,
        first_in_conversation=first, received_at=item.received_at)
    _submit(session, workspace_id=ws_id, contact_id=contact.id, input=message_in,
            dedupe_key=f"in:{item.channel.kind}:{item.provider_id}", now=now)
    return True


def accept_status(
    session: Session, channel: Channel, *, status: str, at: datetime, now: datetime,
    provider_id: str | None = None, key: str | None = None, error_code: str | None = None,
    error_reason: str | None = None, pricing: dict[str, Any] | None = None,
) -> str:
    """Apply one delivery status and tell the run; returns applied|duplicate|unknown."""
    applied = message_service.apply_status(
        session, workspace_id=channel.workspace_id, status=status, at=at,
        provider_id=provider_id, key=key, error_code=error_code, error_reason=error_reason,
        pricing=pricing)
    if applied is None:
        return "unknown"
    if not applied.new:
        return "duplicate"
    row = applied.message
    if row.key and row.contact_id is not None:
        delivery = DeliveryStatus(message_key=row.key, status=status,
                                  error_code=error_code, error_reason=error_reason, at=at)
        _submit(session, workspace_id=channel.workspace_id, contact_id=row.contact_id,
                input=delivery, dedupe_key=f"status:{row.key}:{status}", now=now)
    return "applied"


def _savepoint(session: Session, result: WebhookResult, where: str, work: Any) -> Any:
    """Run ``work()`` in a savepoint: a failure is logged and rolled back alone. (In a batch
    parsed set-based there is none: a failure fails the batch, which is then parsed again
    webhook by webhook, item by item.)"""
    if isinstance(session.info.get(_BATCH), _Batch):
        return work()
    try:
        with session.begin_nested():
            return work()
    except OperationalError:
        raise  # transient (deadlock, lost connection): not the item's fault, retry it all
    except (ServiceError, SQLAlchemyError, ValueError, KeyError, TypeError) as exc:
        problem = f"{where}: {type(exc).__name__}: {exc}"
        result.problems.append(problem[:500])
        log.warning("webhook_item_failed", where=where, error=str(exc)[:500])
        return None


# --------------------------------------------------------------------------------------------
# WhatsApp
# --------------------------------------------------------------------------------------------


def _whatsapp_channels(session: Session, ids: set[str] | None = None) -> list[Channel]:
    query = select(Channel).where(Channel.kind == "whatsapp")
    if ids is not None:
        query = query.where(Channel.identifier.in_(ids))
    return list(session.scalars(query.order_by(Channel.id)))


def _safe_secrets(box: SecretBox, channel: Channel) -> dict[str, Any]:
    try:
        return secrets_of(box, channel)
    except ValueError as exc:  # the secret key changed since the secrets were stored
        log.error("channel_secrets_unreadable", channel_id=channel.id, error=str(exc))
        return {}


def whatsapp_handshake(session: Session, box: SecretBox, mode: str | None, token: str | None,
                       challenge: str | None) -> str | None:
    """The challenge to echo when ``token`` is the verify token of one of our numbers."""
    tokens = [str(_safe_secrets(box, c).get("verify_token") or "")
              for c in _whatsapp_channels(session)]
    return wa.handshake(mode, token, challenge, tokens)


def _phone_number_ids(payload: Any) -> set[str]:
    ids: set[str] = set()
    if not isinstance(payload, dict):
        return ids
    for entry in payload.get("entry") or []:
        for change in (entry.get("changes") or []) if isinstance(entry, dict) else []:
            value = change.get("value") if isinstance(change, dict) else None
            meta = value.get("metadata") if isinstance(value, dict) else None
            if isinstance(meta, dict) and meta.get("phone_number_id"):
                ids.add(str(meta["phone_number_id"]))
    return ids


# Bumped after every commit that inserted, changed or deleted a channel in this process, so
# this process's caches reload at once; other processes rely on the TTL and reload-on-miss.
_channels_generation = [0]


def _note_channel_change(_mapper: Any, _connection: Any, target: Channel) -> None:
    session = object_session(target)
    if session is not None:
        session.info["cauce_channels_changed"] = True


def _bump_after_commit(session: Session) -> None:
    if session.info.pop("cauce_channels_changed", False):
        _channels_generation[0] += 1


def _forget_on_rollback(session: Session) -> None:
    session.info.pop("cauce_channels_changed", None)


for _event in ("after_insert", "after_update", "after_delete"):
    event.listen(Channel, _event, _note_channel_change)
event.listen(Session, "after_commit", _bump_after_commit)
event.listen(Session, "after_rollback", _forget_on_rollback)


class NeedsLoading(Exception):
    """The cached secrets cannot answer without a query (stale, or a reload is due)."""


class WhatsAppNumbers:
    """Every connected WhatsApp number's app secret, for the webhook route to check signatures
    without a query per request.

    Entries live ``TTL_SECONDS``; a body that names a number the cache does not know, or whose
    signature matches none of the cached secrets, reloads it at once, so a number connected
    (or a secret rotated) in any process is honoured on its first webhook. A number removed
    elsewhere is accepted for at most the TTL and then refused where the stored webhook is
    parsed (:func:`handle_whatsapp` checks the signature again against the database).
    """

    TTL_SECONDS = 10.0  # bounds how long a change made by another process can go unseen

    def __init__(self, cauce: Cauce) -> None:
        self._cauce = cauce
        self._lock = threading.Lock()
        self._by_number: dict[str, str] = {}
        self._loaded_at = -1e18
        self._generation = -1

    def get(self, *, refresh: bool = False, cached_only: bool = False) -> dict[str, str]:
        """``{phone_number_id: app_secret}``. With ``cached_only`` (on the event loop, where
        no query may run), :class:`NeedsLoading` is raised instead of loading them."""
        if cached_only:
            if refresh or not self._lock.acquire(blocking=False):
                raise NeedsLoading
            try:
                if _channels_generation[0] != self._generation or \
                        time.monotonic() - self._loaded_at > self.TTL_SECONDS:
                    raise NeedsLoading
                return self._by_number
            finally:
                self._lock.release()
        with self._lock:
            generation = _channels_generation[0]
            if refresh or generation != self._generation or \
                    time.monotonic() - self._loaded_at > self.TTL_SECONDS:
                self._generation = generation
                with self._cauce.transaction() as session:
                    self._by_number = {
                        c.identifier: str(_safe_secrets(self._cauce.secrets, c)
                                          .get("app_secret") or "")
                        for c in _whatsapp_channels(session) if c.identifier}
                self._loaded_at = time.monotonic()
            return self._by_number

    @classmethod
    def of(cls, cauce: Cauce) -> WhatsAppNumbers:
        """This process's cache for ``cauce`` (created on first use)."""
        numbers = cauce.extras.get("whatsapp_numbers")
        if not isinstance(numbers, cls):
            numbers = cls(cauce)
            cauce.extras["whatsapp_numbers"] = numbers
        return numbers


def _open_body(raw_body: bytes, signature: str | None
               ) -> WebhookResult | tuple[Any, set[str], str]:
    """The checks before any secret is looked at: a signature header, the size; then the
    JSON payload (None when it is not JSON: a forged body gets 403 before a 400) and the
    phone number ids it names, with the signature (present by then)."""
    if not signature:
        log.warning("whatsapp_webhook_rejected", reason="missing signature")
        return WebhookResult(401, "missing X-Hub-Signature-256 header")
    if len(raw_body) > limits.MAX_WEBHOOK_BODY_BYTES:
        return WebhookResult(413, "webhook body too large")
    try:
        payload: Any = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError):
        payload = None
    return payload, _phone_number_ids(payload), signature


def _refusal(matched: str | None, payload: Any, ids: set[str]) -> WebhookResult | None:
    """403 for a body no app secret signed (checked first: a forger learns nothing about the
    body), then 400 for one that is not JSON."""
    if matched is None:
        log.warning("whatsapp_webhook_rejected", reason="signature mismatch",
                    numbers=sorted(ids))
        return WebhookResult(403, "X-Hub-Signature-256 does not match any app secret")
    if payload is None:
        log.warning("whatsapp_webhook_malformed", reason="not JSON")
        return WebhookResult(400, "the body is not JSON")
    return None


def verify_whatsapp(numbers: WhatsAppNumbers, raw_body: bytes,
                    signature: str | None, *, cached_only: bool = False
                    ) -> WebhookResult | None:
    """What the webhook route checks before it stores a body: ``None`` when the body is to be
    stored (and parsed later by :func:`handle_whatsapp`), else the refusal to answer.

    ``cached_only``: never query (the route calls it on the event loop first); raises
    :class:`NeedsLoading` when the answer needs the secrets loaded, so the caller checks
    again off the loop."""
    opened = _open_body(raw_body, signature)
    if isinstance(opened, WebhookResult):
        return opened
    payload, ids, signature = opened
    matched = None
    for refresh in (False, True):
        known = numbers.get(refresh=refresh, cached_only=cached_only)
        # As in handle_whatsapp: the numbers named are checked against their own secrets; a
        # body naming none we know is checked against every secret (forged vs unknown number).
        candidates = [known[i] for i in ids if i in known] or list(known.values())
        matched = wa.matching_secret(raw_body, signature, candidates)
        if matched is not None and ids <= known.keys():
            break
    refused = _refusal(matched, payload, ids)
    if refused is not None:
        return refused
    try:
        wa.check_envelope(payload)
    except wa.MalformedPayload as exc:
        log.warning("whatsapp_webhook_malformed", reason=str(exc))
        return WebhookResult(400, str(exc))
    return None


def _channels_named(session: Session, ids: set[str]) -> dict[str, Channel]:
    """The WhatsApp channels of these phone number ids (the newest one when a number is
    connected twice). A drain parses many webhooks of the same numbers in one session: each
    number is looked up once per session, and a batch looks all its numbers up at once."""
    memo: dict[str, Channel | None] = session.info.setdefault("cauce_whatsapp_channels", {})
    missing = ids - memo.keys()
    if missing:
        memo.update(dict.fromkeys(missing))
        for channel in _whatsapp_channels(session, missing):  # id order: the newest wins
            memo[str(channel.identifier)] = channel
    return {i: c for i in ids if (c := memo[i]) is not None}


@dataclass
class _Verified:
    """A stored webhook whose signature checked out, parsed into its changes."""

    matched: str  # the app secret that signed it
    routed: dict[str, Channel]  # the channels of the phone number ids it names
    secrets: dict[int, str]  # channel id -> app secret
    changes: list[wa.Change]

    def channel_for(self, change: wa.Change) -> Channel | None:
        """The channel whose messages and statuses ``change`` carries; None for a template
        update, an unknown number or one signed by another app."""
        channel = self.routed.get(change.phone_number_id) if change.phone_number_id else None
        if change.template_update is not None or channel is None or \
                self.secrets.get(channel.id) != self.matched:
            return None
        return channel


def _verify_stored(session: Session, box: SecretBox, raw_body: bytes,
                   opened: WebhookResult | tuple[Any, set[str], str]
                   ) -> WebhookResult | _Verified:
    """Check a stored webhook (``opened`` by :func:`_open_body`) again against the database
    (the secret may have changed since the route accepted it) and parse it; the refusal when
    it does not verify or parse."""
    if isinstance(opened, WebhookResult):
        return opened
    payload, ids, signature = opened
    routed = _channels_named(session, ids)
    # Numbers we know are checked against their own app secret; a body naming none of them is
    # checked against every app secret, to tell a forged request (403) from an unknown number.
    if not routed and "cauce_whatsapp_all_channels" not in session.info:
        session.info["cauce_whatsapp_all_channels"] = _whatsapp_channels(session)
    candidates = list(routed.values()) or session.info["cauce_whatsapp_all_channels"]
    app_secrets: dict[tuple[int, Any], str] = session.info.setdefault(
        "cauce_whatsapp_app_secrets", {})
    secrets_by_channel = {}
    for c in candidates:
        if (c.id, c.secrets) not in app_secrets:
            app_secrets[(c.id, c.secrets)] = str(_safe_secrets(box, c).get("app_secret") or "")
        secrets_by_channel[c.id] = app_secrets[(c.id, c.secrets)]
    matched = wa.matching_secret(raw_body, signature, secrets_by_channel.values())
    refused = _refusal(matched, payload, ids)
    if refused is not None:
        return refused
    assert matched is not None  # else _refusal answered 403
    try:
        changes = wa.parse(payload)
    except wa.MalformedPayload as exc:
        log.warning("whatsapp_webhook_malformed", reason=str(exc))
        return WebhookResult(400, str(exc))
    return _Verified(matched, routed, secrets_by_channel, changes)


def handle_whatsapp(session: Session, box: SecretBox, raw_body: bytes, signature: str | None,
                    now: datetime) -> WebhookResult:
    """Verify, route and process one WhatsApp webhook (the runtime calls it for each stored
    webhook, with ``now`` = when it arrived, when a batch could not be parsed at once by
    :func:`handle_whatsapp_batch`)."""
    verified = _verify_stored(session, box, raw_body, _open_body(raw_body, signature))
    if isinstance(verified, WebhookResult):
        return verified
    return _handle_changes(session, box, verified, now)


def _handle_changes(session: Session, box: SecretBox, verified: _Verified,
                    now: datetime) -> WebhookResult:
    result = WebhookResult()
    for c_index, change in enumerate(verified.changes):
        where = f"change[{c_index}]"
        result.problems.extend(change.problems)
        for problem in change.problems:
            log.warning("whatsapp_webhook_item_invalid", problem=problem)
        channel = verified.channel_for(change)
        if channel is not None:
            _process_change(session, channel, change, now, result, where)
        elif change.template_update is not None:
            _template_update(session, box, change, verified.matched, now, result)
        elif (change.phone_number_id or "") not in verified.routed:
            count = len(change.messages) + len(change.statuses) + len(change.preferences)
            result.ignored += count
            if count or change.errors:
                log.warning("whatsapp_webhook_unknown_number",
                            phone_number_id=change.phone_number_id)
                result.problems.append(f"{where}: phone_number_id "
                                       f"{change.phone_number_id} is not connected")
        else:
            log.warning("whatsapp_webhook_wrong_app",
                        channel_id=verified.routed[str(change.phone_number_id)].id)
            result.ignored += len(change.messages) + len(change.statuses)
            result.problems.append(f"{where}: signed by another app than number "
                                   f"{change.phone_number_id}'s")
    return result


class BatchNotSupported(Exception):
    """A drained batch holds something only the webhook-by-webhook path handles as before
    (the drain then parses the batch that way)."""


_BATCH = "cauce_inbound_batch"


class _Batch:
    """A drained batch of WhatsApp webhooks parsed set-based: what its items look up is
    loaded with one query per kind for the whole batch (:meth:`load`), and what they store
    is written with one statement per table at the end (:meth:`store`). The items
    themselves run through the same code as one webhook alone (:func:`accept_message`,
    :func:`accept_status`...), which finds the batch in ``session.info[_BATCH]``."""

    def __init__(self) -> None:
        self.contacts: dict[tuple[int, str | None], Contact] = {}
        self.last_inbound: dict[tuple[int, int, int], datetime] = {}
        self.stored_inbound: set[tuple[int, str, str]] = set()
        self.messages: list[dict[str, Any]] = []
        self.inputs: list[Any] = []  # ingest.PendingInput, in webhook order

    def load(self, session: Session, work: list[tuple[_Verified, datetime]]) -> None:
        # Every sender in processing order (messages, then preferences, change by change),
        # with the profile name and arrival time of its first appearance.
        senders: dict[tuple[int, str | None], tuple[str | None, datetime]] = {}
        wamids: set[tuple[int, str, str]] = set()
        numbers: set[tuple[int, str | None, int]] = set()  # (workspace, sender, channel)
        provider_ids: set[str] = set()
        keys: set[str] = set()
        workspaces: set[int] = set()
        for verified, now in work:
            for change in verified.changes:
                channel = verified.channel_for(change)
                if channel is None:
                    continue
                ws = channel.workspace_id
                workspaces.add(ws)
                for msg in change.messages:
                    if not msg.wa_id or "@" in msg.wa_id:
                        raise BatchNotSupported(f"sender {msg.wa_id!r}")
                    senders.setdefault((ws, _e164(msg.wa_id)), (msg.profile_name, now))
                    wamids.add((ws, channel.kind, msg.provider_id))
                    numbers.add((ws, _e164(msg.wa_id), channel.id))
                    if msg.reply_to:
                        provider_ids.add(msg.reply_to)
                for st in change.statuses:
                    provider_ids.update([st.provider_id] if st.provider_id else [])
                    keys.update([st.our_key] if st.our_key else [])
                for pref in change.preferences:
                    if not pref.wa_id:
                        raise BatchNotSupported("preference without wa_id")
                    senders.setdefault((ws, _e164(pref.wa_id)), (None, now))
        self.contacts = _contacts_for(session, senders)
        if wamids:
            self.stored_inbound = {(ws, kind, pid) for ws, kind, pid in session.execute(
                select(Message.workspace_id, Message.channel_kind, Message.provider_id)
                .where(Message.direction == "in",
                       Message.provider_id.in_(sorted({pid for _, _, pid in wamids}))))
                if pid is not None and (ws, kind, pid) in wamids}
        self.last_inbound = message_service.last_inbound_many(session, {
            (ws, self.contacts[(ws, sender)].id, channel_id)
            for ws, sender, channel_id in numbers})
        session.info[message_service.OUTBOUND_INDEX] = message_service.OutboundIndex(
            session, workspaces, provider_ids, keys)

    def record_inbound(self, values: dict[str, Any]) -> bool:
        """:func:`messages.record_inbound` for the batch: False for a wamid stored before
        (or earlier in the batch); else the message is inserted with the others."""
        wamid = (values["workspace_id"], values["channel_kind"], values["provider_id"])
        if wamid in self.stored_inbound:
            return False
        self.stored_inbound.add(wamid)
        self.messages.append(values)
        number = (values["workspace_id"], values["contact_id"], values["channel_id"])
        previous = self.last_inbound.get(number)
        if previous is None or values["created_at"] > previous:
            self.last_inbound[number] = values["created_at"]
        return True

    def store(self, session: Session) -> None:
        from cauce.runtime.ingest import submit_many

        if self.messages:
            session.execute(insert(cast(Table, Message.__table__)), self.messages)
        session.flush()  # contacts and statuses changed by the items
        submit_many(session, self.inputs)


def _contacts_for(session: Session, senders: dict[tuple[int, str | None],
                                                  tuple[str | None, datetime]]
                  ) -> dict[tuple[int, str | None], Contact]:
    """:func:`find_or_create_contact` for every ``(workspace_id, phone)`` of a batch: one
    query finds the live contacts, one INSERT creates the missing ones (in the order given,
    each with its first profile name and arrival time), skipping a phone another writer
    inserted meanwhile (ON CONFLICT DO NOTHING, which on PostgreSQL waits for that writer's
    outcome), and one query loads what was created."""
    found = _live_contacts(session, set(senders))
    missing = [pair for pair in senders if pair not in found]
    if not missing:
        return found
    # Held for the loop: the identity map keeps rows weakly, and each new contact reads its
    # workspace (country, time zone).
    workspaces = [session.get(Workspace, ws) for ws in {ws for ws, _ in missing}]
    new: list[Contact] = []
    for ws, phone in missing:
        name, now = senders[(ws, phone)]
        try:
            contact, tags = contact_service.build_contact(
                session, ws, _new_contact_data(phone, None, name), now, source="inbound")
        except Invalid:
            contact, tags = _unknown_number_contact(session, ws, phone, None, name, now), []
        if tags:
            raise BatchNotSupported("a new contact with tags")
        new.append(contact)
    table = cast(Table, Contact.__table__)
    stmt = (postgresql.insert(table) if session.get_bind().dialect.name == "postgresql"
            else sqlite.insert(table)).on_conflict_do_nothing()
    created = set(session.execute(stmt.returning(table.c.id),
                                  [_column_values(table, c) for c in new]).scalars())
    found.update(_live_contacts(session, set(missing)))
    for ws, phone in missing:
        stored = found.get((ws, phone))
        if stored is None:  # e.g. the number normalises to another contact's phone
            raise BatchNotSupported(f"no contact for {phone} after the insert")
        if stored.id in created:
            contact_service.publish_contact(session, stored, "contact.created",
                                            senders[(ws, phone)][1])
    del workspaces
    return found


def _live_contacts(session: Session, pairs: set[tuple[int, str | None]]
                   ) -> dict[tuple[int, str | None], Contact]:
    """``find_by_identifiers(phone=...)[0]`` for many (workspace, phone) pairs at once."""
    if not pairs:
        return {}
    found: dict[tuple[int, str | None], Contact] = {}
    for contact in session.scalars(select(Contact).where(
            Contact.workspace_id.in_(sorted({ws for ws, _ in pairs})),
            Contact.phone.in_(sorted({str(p) for _, p in pairs})),
            Contact.merged_into_id.is_(None)).order_by(Contact.id)):
        if (contact.workspace_id, contact.phone) in pairs:
            found.setdefault((contact.workspace_id, contact.phone), contact)
    return found


def _column_values(table: Table, obj: Any) -> dict[str, Any]:
    """A new (unflushed) ORM object's row, as the ORM would insert it: the attributes set,
    else the column defaults. Every row has every column, so a list of them is one
    multi-row INSERT."""
    values: dict[str, Any] = {}
    for column in table.columns:
        default: Any = column.default
        if column.primary_key:
            continue
        if column.key in obj.__dict__:
            values[column.key] = obj.__dict__[column.key]
        elif default is not None and default.is_scalar:
            values[column.key] = default.arg
        elif default is not None and default.is_callable:
            values[column.key] = default.arg(None)
        else:
            values[column.key] = None
    return values


def handle_whatsapp_batch(session: Session, box: SecretBox,
                          webhooks: list[tuple[bytes, str | None, datetime]]
                          ) -> list[WebhookResult]:
    """:func:`handle_whatsapp` for a drained batch of stored webhooks (body, signature,
    arrival time), in order, with the same outcome per webhook, but set-based: the channels
    of every number named, the contacts of every sender (the missing ones created with one
    INSERT), the wamids stored before, each contact's last inbound message and the outbound
    messages the statuses name are looked up once for the batch, and the messages and the
    runtime inputs (in webhook order: each contact's inputs keep its arrival order) are
    inserted with one statement each. No savepoint per webhook or item: anything unexpected
    raises, and the caller rolls the batch back and parses it webhook by webhook."""
    opened = [_open_body(raw, signature) for raw, signature, _ in webhooks]
    _channels_named(session, {i for o in opened if not isinstance(o, WebhookResult)
                              for i in o[1]})
    verified = [_verify_stored(session, box, raw, o)
                for (raw, _, _), o in zip(webhooks, opened, strict=True)]
    batch = _Batch()
    try:
        session.info[_BATCH] = batch
        batch.load(session, [(v, now) for v, (_, _, now) in zip(verified, webhooks, strict=True)
                             if isinstance(v, _Verified)])
        results = [v if isinstance(v, WebhookResult) else _handle_changes(session, box, v, now)
                   for v, (_, _, now) in zip(verified, webhooks, strict=True)]
        session.info.pop(_BATCH)
        batch.store(session)
    except BaseException:
        # What the batch loaded may be rows its rollback removes (the contacts it inserted;
        # SQLite then hands their ids out again): the webhook-by-webhook retry starts from an
        # empty identity map and looks the channels up again.
        session.expunge_all()
        for memo in ("cauce_whatsapp_channels", "cauce_whatsapp_all_channels"):
            session.info.pop(memo, None)
        raise
    finally:
        session.info.pop(_BATCH, None)
        session.info.pop(message_service.OUTBOUND_INDEX, None)
    return results


def _process_change(session: Session, channel: Channel, change: wa.Change, now: datetime,
                    result: WebhookResult, where: str) -> None:
    for i, msg in enumerate(change.messages):
        if msg.unknown_type:
            log.warning("whatsapp_unknown_message_type", type=msg.kind, id=msg.provider_id)
            result.problems.append(f"{where}.messages[{i}]: unknown message type '{msg.kind}' "
                                   "stored as unsupported")
        item = _incoming_from_whatsapp(channel, msg)
        stored = _savepoint(session, result, f"{where}.messages[{i}]",
                            lambda item=item: accept_message(session, item, now))
        if stored is True:
            result.messages += 1
        elif stored is False:
            result.duplicates += 1
    for i, st in enumerate(change.statuses):
        outcome = _savepoint(session, result, f"{where}.statuses[{i}]",
                             lambda st=st: _whatsapp_status(session, channel, st, now))
        if outcome == "applied":
            result.statuses += 1
        elif outcome == "duplicate":
            result.duplicates += 1
        elif outcome is not None:
            result.ignored += 1
    for i, pref in enumerate(change.preferences):
        _savepoint(session, result, f"{where}.user_preferences[{i}]",
                   lambda pref=pref: _preference(session, channel, pref, now))
    for err in change.errors:
        log.warning("whatsapp_webhook_error", channel_id=channel.id, code=err.get("code"),
                    title=err.get("title"), details=(err.get("error_data") or {}).get("details"))
        code = err.get("code")
        if isinstance(code, int):
            mapped = map_error(code)
            if mapped.action is ErrorAction.CHANNEL_BROKEN:
                mark_broken(session, channel, mapped.reason, now)


def _template_update(session: Session, box: SecretBox, change: wa.Change, matched: str,
                     now: datetime, result: WebhookResult) -> None:
    """Meta paused, disabled or approved a template: mirror it on every number of that WABA
    (signed by the same app), so sends of a paused template are refused before Meta's 132015."""
    update = change.template_update or {}
    status = str(update.get("status") or "")
    if status not in TEMPLATE_STATUSES:
        result.ignored += 1
        return
    for channel in _whatsapp_channels(session):
        if str((channel.config or {}).get("waba_id") or "") != change.entry_id:
            continue
        if str(_safe_secrets(box, channel).get("app_secret") or "") != matched:
            continue
        query = select(WhatsAppTemplate).where(WhatsAppTemplate.channel_id == channel.id,
                                               WhatsAppTemplate.name == update["name"])
        if update.get("language"):
            query = query.where(WhatsAppTemplate.language == update["language"])
        for row in session.scalars(query):
            row.status, row.updated_at = status, now
            result.statuses += 1
        log.info("whatsapp_template_status", channel_id=channel.id, name=update["name"],
                 status=status, reason=update.get("reason"))


def _incoming_from_whatsapp(channel: Channel, msg: wa.InboundMessage) -> Incoming:
    kind = "unsupported" if msg.unknown_type else msg.kind
    content: dict[str, Any] = {"type": msg.raw.get("type")}
    if msg.text:
        content["text"] = msg.text
    if msg.button_id is not None:
        content["button"] = {"id": msg.button_id, "title": msg.button_title}
    for key in ("media", "location", "reaction"):
        value = getattr(msg, key)
        if value:
            content[key] = value
    if msg.unknown_type:
        content["raw"] = msg.raw
    return Incoming(
        channel=channel, flow_channel="whatsapp", provider_id=msg.provider_id,
        sender=msg.wa_id, received_at=msg.received_at, kind=kind, text=msg.text,
        content=content, reply_to=msg.reply_to, button_id=msg.button_id,
        button_title=msg.button_title, media=msg.media, location=msg.location,
        referral=msg.referral, profile_name=msg.profile_name)


def _whatsapp_status(session: Session, channel: Channel, st: wa.StatusUpdate,
                     now: datetime) -> str:
    if st.status not in message_service.STATUS_COLUMNS:
        return "ignored"  # played, deleted...: nothing a run waits for
    reason = None
    if st.status == "failed":
        code = int(st.error_code) if st.error_code and st.error_code.isdigit() else None
        mapped = map_error(code, details=st.error_details or st.error_title or "")
        reason = mapped.reason
        row = message_service.find_outbound(session, workspace_id=channel.workspace_id,
                                            provider_id=st.provider_id, key=st.our_key)
        if mapped.action is ErrorAction.SUPPRESS_MARKETING and row and row.contact_id:
            contact = session.get(Contact, row.contact_id)
            if contact is not None and code == 131050:
                _set_marketing_opt_out(contact, True, now, "whatsapp:131050")
        if mapped.action is ErrorAction.CHANNEL_BROKEN:
            mark_broken(session, channel, mapped.reason, now)
    pricing = None
    if st.pricing_category or st.pricing_type:
        pricing = {"category": st.pricing_category, "type": st.pricing_type,
                   "pricing_model": st.pricing_model, "billable": st.billable}
    return accept_status(session, channel, status=st.status, at=st.at, now=now,
                         provider_id=st.provider_id, key=st.our_key, error_code=st.error_code,
                         error_reason=reason, pricing=pricing)


def _preference(session: Session, channel: Channel, pref: wa.PreferenceUpdate,
                now: datetime) -> None:
    contact = find_or_create_contact(session, channel.workspace_id, phone=pref.wa_id,
                                     name=None, now=now)
    _set_marketing_opt_out(contact, pref.value == "stop", pref.at, "whatsapp:user_preferences")
    log.info("whatsapp_marketing_preference", contact_id=contact.id, value=pref.value)


# --------------------------------------------------------------------------------------------
# SMS: Twilio and generic providers
# --------------------------------------------------------------------------------------------


def handle_twilio(session: Session, box: SecretBox, url: str, form: Mapping[str, str],
                  signature: str | None, now: datetime) -> WebhookResult:
    """Twilio status callbacks and inbound SMS (both form posts, signed with the auth token)."""
    if not signature:
        return WebhookResult(401, "missing X-Twilio-Signature header")
    account = form.get("AccountSid", "")
    is_status = "MessageStatus" in form and form.get("MessageStatus") != "received"
    our_number = form.get("From" if is_status else "To", "")
    candidates = [c for c in session.scalars(select(Channel).where(Channel.kind == "sms_twilio"))
                  if (c.config or {}).get("account_sid") == account]
    channel = next((c for c in candidates if c.identifier == our_number), None) or \
        (candidates[0] if candidates else None)
    if channel is None:
        log.warning("twilio_webhook_unknown_account", account_sid=account)
        return WebhookResult(403, "no Twilio channel for this account")
    token = str(_safe_secrets(box, channel).get("auth_token") or "")
    if not token or not verify_twilio(token, url, form, signature):
        log.warning("twilio_webhook_rejected", reason="signature mismatch", url=url)
        return WebhookResult(403, "X-Twilio-Signature does not match")
    result = WebhookResult()
    sid = form.get("MessageSid") or form.get("SmsSid") or ""
    if not sid:
        return WebhookResult(400, "MessageSid is missing")
    if is_status:
        ours = TWILIO_STATUS.get(form.get("MessageStatus", ""))
        if ours is None:
            result.ignored += 1
            return result
        code = form.get("ErrorCode") or None
        reason = f"Twilio error {code}" if code else None
        outcome = _savepoint(session, result, "status", lambda: accept_status(
            session, channel, status=ours, at=now, now=now, provider_id=sid,
            error_code=code, error_reason=reason))
        _count_status(result, outcome)
        return result
    item = Incoming(channel=channel, flow_channel="sms", provider_id=sid,
                    sender=form.get("From", ""), received_at=now, kind="text",
                    text=form.get("Body", ""), content={"text": form.get("Body", "")})
    _count_message(result, _savepoint(session, result, "message",
                                      lambda: accept_message(session, item, now)))
    return result


def _count_status(result: WebhookResult, outcome: Any) -> None:
    if outcome == "applied":
        result.statuses += 1
    elif outcome == "duplicate":
        result.duplicates += 1
    else:
        result.ignored += 1


def _count_message(result: WebhookResult, stored: Any) -> None:
    if stored is True:
        result.messages += 1
    elif stored is False:
        result.duplicates += 1


def handle_generic_sms(session: Session, box: SecretBox, channel_id: int, token: str | None,
                       data: Mapping[str, Any], now: datetime) -> WebhookResult:
    """A configurable provider's callback: a delivery status (``status_id_field`` present) or
    an inbound SMS (``inbound_from_field`` present). Authenticated by the channel's
    ``webhook_token`` (``?token=`` in the callback URL)."""
    channel = session.get(Channel, channel_id)
    if channel is None or channel.kind != "sms_http":
        return WebhookResult(404, f"no generic SMS channel {channel_id}")
    expected = str(_safe_secrets(box, channel).get("webhook_token") or "")
    if not token:
        return WebhookResult(401, "missing token")
    if not expected or not constant_time_equal(expected, token):
        log.warning("sms_webhook_rejected", channel_id=channel_id)
        return WebhookResult(403, "wrong token")
    config = channel.config or {}
    result = WebhookResult()
    status_id = dig(data, str(config.get("status_id_field") or "id"))
    raw_status = dig(data, str(config.get("status_field") or "status"))
    sender = dig(data, str(config.get("inbound_from_field") or "from"))
    if status_id and raw_status is not None:
        mapping = {str(k).lower(): str(v) for k, v in dict(config.get("status_map") or {
            "sent": "sent", "delivered": "delivered", "failed": "failed",
            "undelivered": "failed"}).items()}
        ours = mapping.get(str(raw_status).lower())
        if ours not in message_service.STATUS_COLUMNS:
            result.ignored += 1
            return result
        error = dig(data, str(config.get("error_field") or "error"))
        outcome = _savepoint(session, result, "status", lambda: accept_status(
            session, channel, status=str(ours), at=now, now=now, provider_id=str(status_id),
            error_code=str(error) if error else None,
            error_reason=f"SMS provider: {error}" if error else None))
        _count_status(result, outcome)
        return result
    if sender:
        text = dig(data, str(config.get("inbound_text_field") or "text")) or ""
        provider_id = dig(data, str(config.get("inbound_id_field") or "message_id")) or \
            f"{sender}:{now.timestamp()}"
        item = Incoming(channel=channel, flow_channel="sms", provider_id=str(provider_id),
                        sender=str(sender), received_at=now, kind="text", text=str(text),
                        content={"text": str(text)})
        _count_message(result, _savepoint(session, result, "message",
                                          lambda: accept_message(session, item, now)))
        return result
    return WebhookResult(422, "neither a status (status_id_field/status_field) nor an inbound "
                         "message (inbound_from_field) was found in the body")


# --------------------------------------------------------------------------------------------
# Email bounces
# --------------------------------------------------------------------------------------------

BOUNCE_TYPES = ("hard", "soft", "complaint")


def handle_email_bounces(session: Session, box: SecretBox, token: str | None,
                         data: Any, now: datetime) -> WebhookResult:
    """Generic bounce format: ``{"bounces": [{"message_id" | "key", "email", "type":
    hard|soft|complaint, "reason"}]}`` (or one such object), authenticated with an email
    channel's ``bounce_token`` as ``Authorization: Bearer <token>``."""
    if not token:
        return WebhookResult(401, "missing bearer token")
    channel = None
    for candidate in session.scalars(select(Channel).where(Channel.kind == "email")):
        expected = str(_safe_secrets(box, candidate).get("bounce_token") or "")
        if expected and constant_time_equal(expected, token):
            channel = candidate
    if channel is None:
        return WebhookResult(403, "the token is not the bounce_token of an email channel")
    items = data.get("bounces") if isinstance(data, dict) and "bounces" in data else [data]
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        return WebhookResult(422, "expected {bounces: [{message_id, email, type, reason}]}")
    result = WebhookResult()
    for i, item in enumerate(items):
        kind = str(item.get("type") or "hard").lower()
        if kind not in BOUNCE_TYPES:
            result.problems.append(f"bounces[{i}].type: use hard, soft or complaint")
            continue
        outcome = _savepoint(session, result, f"bounces[{i}]",
                             lambda item=item, kind=kind: _bounce(session, channel, item, kind,
                                                                  now))
        _count_status(result, outcome)
    return result


def _bounce(session: Session, channel: Channel, item: dict[str, Any], kind: str,
            now: datetime) -> str:
    reason = str(item.get("reason") or f"{kind} bounce")[:400]
    email = str(item.get("email") or "").strip().lower()
    if kind == "complaint" and email:
        for contact in contact_service.find_by_identifiers(session, channel.workspace_id,
                                                           email=email):
            _set_marketing_opt_out(contact, True, now, "email:complaint")
    if kind == "soft":
        log.info("email_soft_bounce", email=email, reason=reason)
        return "ignored"  # the mail server retries; a soft bounce is not a final failure
    provider_id = str(item.get("message_id") or "") or None
    if provider_id and not provider_id.startswith("<"):
        provider_id = f"<{provider_id}>"
    key = str(item.get("key") or "") or None
    if not provider_id and not key:
        raise ValueError("a bounce needs message_id or key")
    return accept_status(session, channel, status="failed", at=now, now=now,
                         provider_id=provider_id, key=key, error_code=f"bounce_{kind}",
                         error_reason=f"email {'complaint' if kind == 'complaint' else 'bounced'}"
                         f": {reason}")


# --------------------------------------------------------------------------------------------
# Simulator (the web UI's chat panel)
# --------------------------------------------------------------------------------------------


class SimulatedMessage(BaseModel):
    """What the person typed or tapped in the simulator's chat panel."""

    model_config = ConfigDict(extra="forbid")

    contact_id: int | None = Field(default=None, description="An existing contact, or...")
    phone: str | None = Field(default=None, examples=["+5491122334455"],
                              description="...a phone number (the contact is created).")
    name: str | None = Field(default=None, max_length=200)
    text: str = Field(default="", max_length=4096)
    button_id: str | None = Field(default=None, max_length=256,
                                  description="Reply-button id or list-row id tapped.")
    button_title: str | None = Field(default=None, max_length=100)
    reply_to: str | None = Field(default=None, description="Key of the message replied to.")
    referral: dict[str, Any] | None = Field(
        default=None, description="Pretend the contact came from a click-to-WhatsApp ad.")
    client_id: str | None = Field(default=None, max_length=100,
                                  description="Idempotency: the same id is stored once.")


def simulate_inbound(session: Session, workspace_id: int, data: SimulatedMessage,
                     now: datetime) -> tuple[Contact, Any]:
    """Treat a simulator message exactly like a WhatsApp one: stored, window opened,
    keywords honoured, and handed to the runtime. Returns the contact and the message row."""
    from cauce.services.channels import ensure_simulator_channel

    if not data.text and not data.button_id:
        raise Invalid("text: type a message or tap a button", field="text")
    if data.contact_id is not None:
        contact = contact_service.get_contact(session, workspace_id, data.contact_id)
        if not contact.phone:
            raise Invalid("contact_id: the simulator needs a contact with a phone",
                          field="contact_id")
        phone = contact.phone
    elif data.phone:
        phone, _ = contact_service.normalize_phone(data.phone, _workspace_country(session,
                                                                                  workspace_id))
    else:
        raise Invalid("contact_id: send contact_id or phone", field="contact_id")
    channel = ensure_simulator_channel(session, workspace_id, now)
    provider_id = f"sim-in.{data.client_id or uuid.uuid4().hex}"
    kind = "button_reply" if data.button_id else "text"
    text = data.text or data.button_title or data.button_id or ""
    content: dict[str, Any] = {"text": text}
    if data.button_id:
        content["button"] = {"id": data.button_id, "title": data.button_title}
    item = Incoming(channel=channel, flow_channel="whatsapp", provider_id=provider_id,
                    sender=phone, received_at=now, kind=kind, text=text, content=content,
                    reply_to=data.reply_to, button_id=data.button_id,
                    button_title=data.button_title, referral=data.referral,
                    profile_name=data.name)
    accept_message(session, item, now)
    row = session.scalar(select(Message).where(
        Message.workspace_id == workspace_id, Message.channel_kind == "simulator",
        Message.direction == "in", Message.provider_id == provider_id))
    stored = session.get(Contact, row.contact_id) if row and row.contact_id else None
    if stored is None:
        raise Invalid("the simulated message could not be stored", field="text")
    return stored, row


def _workspace_country(session: Session, workspace_id: int) -> str | None:
    ws = session.get(Workspace, workspace_id)
    return ws.country if ws else None
