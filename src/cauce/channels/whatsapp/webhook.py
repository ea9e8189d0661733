"""WhatsApp webhooks: the verification handshake, ``X-Hub-Signature-256``, and the payload
parsed into our own types. Pure: no database; the inbound service stores what comes out.

Parsing never raises on a bad item: a message we cannot read becomes a ``problem`` and the
rest of the batch is still returned, so one odd message never loses the others.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field as _field
from datetime import UTC, datetime
from typing import Any

SIGNATURE_HEADER = "X-Hub-Signature-256"
KNOWN_TYPES = frozenset({
    "text", "interactive", "button", "image", "video", "audio", "document", "sticker",
    "location", "reaction", "contacts", "order", "unsupported", "system", "request_welcome",
})
MEDIA_TYPES = ("image", "video", "audio", "document", "sticker")


def sign(raw_body: bytes, app_secret: str) -> str:
    """The header value Meta sends: ``sha256=<hex HMAC of the raw body>``."""
    digest = hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def matching_secret(raw_body: bytes, header: str, app_secrets: Iterable[str]) -> str | None:
    """The app secret whose signature matches ``header`` (constant-time), else ``None``."""
    given = header.strip()
    found = None
    for secret in app_secrets:
        # Compare against every candidate so timing does not reveal which one matched.
        if secret and hmac.compare_digest(sign(raw_body, secret).encode(), given.encode()):
            found = secret
    return found


def handshake(mode: str | None, token: str | None, challenge: str | None,
              verify_tokens: Iterable[str]) -> str | None:
    """The challenge to echo when the subscription request is valid, else ``None``."""
    if mode != "subscribe" or not token or challenge is None:
        return None
    ok = False
    for expected in verify_tokens:
        if expected and hmac.compare_digest(expected.encode(), token.encode()):
            ok = True
    return challenge if ok else None


@dataclass
class InboundMessage:
    provider_id: str
    wa_id: str
    received_at: datetime
    kind: str  # text|button_reply|list_reply|template_button|media|location|reaction|contacts|...
    text: str = ""
    reply_to: str | None = None
    button_id: str | None = None
    button_title: str | None = None
    media: dict[str, Any] | None = None
    location: dict[str, Any] | None = None
    reaction: dict[str, Any] | None = None
    referral: dict[str, Any] | None = None
    profile_name: str | None = None
    user_id: str | None = None
    raw: dict[str, Any] = _field(default_factory=dict)
    unknown_type: bool = False


@dataclass
class StatusUpdate:
    provider_id: str
    status: str  # sent|delivered|read|failed|played|deleted...
    at: datetime
    recipient: str = ""
    our_key: str | None = None  # biz_opaque_callback_data
    error_code: str | None = None
    error_title: str | None = None
    error_details: str | None = None
    pricing_category: str | None = None
    pricing_type: str | None = None
    pricing_model: str | None = None
    billable: bool | None = None
    conversation_origin: str | None = None


@dataclass
class PreferenceUpdate:
    wa_id: str
    value: str  # stop|resume
    category: str
    at: datetime
    detail: str = ""


@dataclass
class Change:
    """One ``entry[].changes[]`` item, routed by ``phone_number_id``."""

    field: str
    phone_number_id: str | None
    entry_id: str = ""  # the WhatsApp Business Account id
    template_update: dict[str, Any] | None = None  # message_template_status_update value
    messages: list[InboundMessage] = _field(default_factory=list)
    statuses: list[StatusUpdate] = _field(default_factory=list)
    preferences: list[PreferenceUpdate] = _field(default_factory=list)
    errors: list[dict[str, Any]] = _field(default_factory=list)
    problems: list[str] = _field(default_factory=list)


class MalformedPayload(ValueError):
    """The body is not a WhatsApp webhook envelope at all."""


def _ts(value: Any) -> datetime:
    try:
        return datetime.fromtimestamp(int(str(value)), UTC)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"timestamp '{value}' is not unix seconds") from None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def check_envelope(payload: Any) -> None:
    """Raise :class:`MalformedPayload` unless ``payload`` is a WhatsApp webhook envelope (what
    the webhook route checks before it stores a body to parse later)."""
    if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
        raise MalformedPayload("expected {object: whatsapp_business_account, entry: [...]}")
    if payload.get("object") not in (None, "whatsapp_business_account"):
        raise MalformedPayload(f"object '{payload.get('object')}' is not whatsapp_business_account")


def parse(payload: Any) -> list[Change]:
    """Every change of every entry. Raises :class:`MalformedPayload` only when the envelope
    itself is wrong; problems with single items are reported per change."""
    check_envelope(payload)
    changes: list[Change] = []
    for e, entry in enumerate(payload["entry"]):
        for c, raw_change in enumerate(_list(_dict(entry).get("changes"))):
            change = _parse_change(_dict(raw_change), f"entry[{e}].changes[{c}]")
            change.entry_id = str(_dict(entry).get("id") or "")
            changes.append(change)
    return changes


def _parse_change(raw: dict[str, Any], where: str) -> Change:
    value = _dict(raw.get("value"))
    metadata = _dict(value.get("metadata"))
    phone_number_id = metadata.get("phone_number_id")
    change = Change(field=str(raw.get("field") or ""),
                    phone_number_id=str(phone_number_id) if phone_number_id else None)
    profiles: dict[str, tuple[str | None, str | None]] = {}
    for contact in _list(value.get("contacts")):
        contact = _dict(contact)
        name = _dict(contact.get("profile")).get("name")
        key = str(contact.get("wa_id") or contact.get("user_id") or "")
        profiles[key] = (str(name) if name else None,
                         str(contact["user_id"]) if contact.get("user_id") else None)
    for i, raw_msg in enumerate(_list(value.get("messages"))):
        try:
            msg = _parse_message(_dict(raw_msg))
        except (ValueError, KeyError, TypeError) as exc:
            change.problems.append(f"{where}.messages[{i}]: {exc}")
            continue
        msg.profile_name, msg.user_id = profiles.get(msg.wa_id, (None, None))
        change.messages.append(msg)
    for i, raw_status in enumerate(_list(value.get("statuses"))):
        try:
            change.statuses.append(_parse_status(_dict(raw_status)))
        except (ValueError, KeyError, TypeError) as exc:
            change.problems.append(f"{where}.statuses[{i}]: {exc}")
    for i, raw_pref in enumerate(_list(value.get("user_preferences"))):
        pref = _dict(raw_pref)
        try:
            if pref.get("value") not in ("stop", "resume") or not pref.get("wa_id"):
                raise ValueError(f"unknown preference value '{pref.get('value')}'")
            change.preferences.append(PreferenceUpdate(
                wa_id=str(pref["wa_id"]), value=str(pref["value"]),
                category=str(pref.get("category") or "marketing_messages"),
                at=_ts(pref.get("timestamp")), detail=str(pref.get("detail") or "")))
        except ValueError as exc:
            change.problems.append(f"{where}.user_preferences[{i}]: {exc}")
    change.errors = [_dict(err) for err in _list(value.get("errors"))]
    if change.field == "message_template_status_update":
        if value.get("message_template_name") and value.get("event"):
            change.template_update = {
                "name": str(value["message_template_name"]),
                "language": str(value.get("message_template_language") or ""),
                "status": str(value["event"]).lower(), "reason": value.get("reason")}
        else:
            change.problems.append(f"{where}: template update without name or event")
    if change.phone_number_id is None and (change.messages or change.statuses):
        change.problems.append(f"{where}: no metadata.phone_number_id")
    return change


def _parse_message(raw: dict[str, Any]) -> InboundMessage:
    provider_id = raw.get("id")
    sender = raw.get("from") or raw.get("from_user_id")
    if not provider_id or not sender:
        raise ValueError("message without id or from")
    kind = str(raw.get("type") or "")
    msg = InboundMessage(provider_id=str(provider_id), wa_id=str(sender),
                         received_at=_ts(raw.get("timestamp")), kind=kind, raw=raw)
    context = _dict(raw.get("context"))
    if context.get("id"):
        msg.reply_to = str(context["id"])
    if isinstance(raw.get("referral"), dict):
        msg.referral = dict(raw["referral"])
    if kind == "text":
        msg.text = str(_dict(raw.get("text")).get("body") or "")
    elif kind == "interactive":
        interactive = _dict(raw.get("interactive"))
        sub = str(interactive.get("type") or "")
        reply = _dict(interactive.get(sub))
        if sub not in ("button_reply", "list_reply") or not reply.get("id"):
            msg.kind, msg.unknown_type = f"interactive:{sub}", True
        else:
            msg.kind = sub
            msg.button_id, msg.button_title = str(reply["id"]), str(reply.get("title") or "")
            msg.text = msg.button_title
    elif kind == "button":
        button = _dict(raw.get("button"))
        msg.kind = "template_button"
        msg.button_id = str(button.get("payload") or button.get("text") or "")
        msg.button_title = str(button.get("text") or "")
        msg.text = msg.button_title
    elif kind in MEDIA_TYPES:
        media = _dict(raw.get(kind))
        if not media.get("id"):
            raise ValueError(f"{kind} message without a media id")
        msg.kind = "media"
        msg.media = {"media_type": kind, "id": str(media["id"]),
                     "mime_type": media.get("mime_type"), "sha256": media.get("sha256"),
                     "caption": media.get("caption"), "filename": media.get("filename")}
        msg.text = str(media.get("caption") or "")
    elif kind == "location":
        loc = _dict(raw.get("location"))
        msg.location = {k: loc.get(k) for k in ("latitude", "longitude", "name", "address", "url")}
        msg.text = str(loc.get("name") or loc.get("address") or "")
    elif kind == "reaction":
        reaction = _dict(raw.get("reaction"))
        msg.reaction = {"message_id": reaction.get("message_id"), "emoji": reaction.get("emoji")}
        msg.reply_to = str(reaction["message_id"]) if reaction.get("message_id") else msg.reply_to
        msg.text = str(reaction.get("emoji") or "")
    elif kind not in KNOWN_TYPES:
        msg.unknown_type = True
    return msg


def _parse_status(raw: dict[str, Any]) -> StatusUpdate:
    if not raw.get("id") or not raw.get("status"):
        raise ValueError("status without id or status")
    update = StatusUpdate(provider_id=str(raw["id"]), status=str(raw["status"]),
                          at=_ts(raw.get("timestamp")),
                          recipient=str(raw.get("recipient_id") or ""))
    if raw.get("biz_opaque_callback_data"):
        update.our_key = str(raw["biz_opaque_callback_data"])
    errors = _list(raw.get("errors"))
    if errors:
        first = _dict(errors[0])
        update.error_code = str(first.get("code")) if first.get("code") is not None else None
        update.error_title = str(first.get("title") or first.get("message") or "")
        update.error_details = str(_dict(first.get("error_data")).get("details") or "") or None
    pricing = _dict(raw.get("pricing"))
    if pricing:
        update.pricing_category = pricing.get("category")
        update.pricing_type = pricing.get("type")
        update.pricing_model = pricing.get("pricing_model")
        billable = pricing.get("billable")
        update.billable = bool(billable) if billable is not None else None
    origin = _dict(_dict(raw.get("conversation")).get("origin")).get("type")
    update.conversation_origin = str(origin) if origin else None
    return update
