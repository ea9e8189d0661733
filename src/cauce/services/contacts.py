"""Contacts: normalisation (E.164 phones, validated emails), typed custom fields, consent,
first-touch attribution, tags, upsert by identifier and merging of duplicates."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any, Literal

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cauce.services.errors import Conflict, Invalid, NotFound
from cauce.services.pagination import Page, paginate
from cauce.store.models import Contact, ContactField, Opportunity, Ticket, Workspace

FIELD_TYPES = ("text", "number", "date", "boolean", "choice")
CONSENT_STATUSES = ("opted_in", "opted_out")
CHANNELS = ("whatsapp", "sms", "email")
_FIELD_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_TAG_MAX = 64
UTM_KEYS = ("source", "medium", "campaign", "term", "content")


# --------------------------------------------------------------------------------------------
# Input shapes shared by the API, the importer and the CLI
# --------------------------------------------------------------------------------------------


class ConsentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["opted_in", "opted_out"]
    source: str = Field(default="", max_length=100, examples=["checkout form"])
    at: datetime | None = Field(default=None, description="When; defaults to now.")


class AttributionIn(BaseModel):
    """The first touch. Kept once: later values never overwrite it."""

    model_config = ConfigDict(extra="forbid")

    source: str = Field(default="", max_length=50, examples=["ad"])
    referral: dict[str, Any] | None = Field(
        default=None,
        description="WhatsApp click-to-chat ad referral (source_url, source_id, headline...).",
        examples=[{"source_type": "ad", "source_id": "120210", "headline": "Promo"}],
    )
    utm: dict[str, str] = Field(
        default_factory=dict, examples=[{"source": "facebook", "campaign": "verano"}]
    )


class ContactIn(BaseModel):
    """Attributes of a contact. On update only the attributes sent are changed."""

    model_config = ConfigDict(extra="forbid")

    phone: str | None = Field(default=None, max_length=40, examples=["+54 9 11 2233-4455"])
    email: str | None = Field(default=None, max_length=254, examples=["ana@example.com"])
    external_id: str | None = Field(default=None, max_length=128, examples=["shop-1042"])
    name: str | None = Field(default=None, max_length=200, examples=["Ana Pérez"])
    first_name: str | None = Field(default=None, max_length=100, examples=["Ana"])
    last_name: str | None = Field(default=None, max_length=100, examples=["Pérez"])
    language: str | None = Field(default=None, max_length=8, examples=["es"])
    tags: list[str] | None = Field(default=None, examples=[["vip"]])
    fields: dict[str, Any] | None = Field(default=None, examples=[{"plan": "pro"}])
    lead_score: int | None = Field(default=None, ge=-1_000_000, le=1_000_000)
    consent: dict[str, ConsentIn] | None = Field(
        default=None, examples=[{"whatsapp": {"status": "opted_in", "source": "form"}}]
    )
    opted_out_marketing: bool | None = None
    attribution: AttributionIn | None = None


# --------------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------------


def normalize_phone(raw: str, default_country: str | None) -> tuple[str, str | None]:
    """Return ``(e164, country)``; raise :class:`Invalid` naming ``phone`` otherwise."""
    text = raw.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else default_country)
    except phonenumbers.NumberParseException:
        raise Invalid(
            f"phone: '{raw}' is not a phone number; use international format like +5491122334455",
            field="phone",
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise Invalid(f"phone: '{raw}' is not a valid number", field="phone")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return e164, phonenumbers.region_code_for_number(number)


def timezone_for(e164: str, default: str) -> str:
    """The contact's timezone from the phone number (the runtime's rule), else ``default``."""
    from cauce.engine.business_time import timezone_for_phone

    return timezone_for_phone(e164, default)


def normalize_email(raw: str) -> str:
    try:
        info = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise Invalid(f"email: {exc}", field="email") from None
    return info.normalized.lower()


def normalize_tag(raw: str) -> str:
    tag = raw.strip()
    if not tag or len(tag) > _TAG_MAX:
        raise Invalid(f"tags: a tag has 1 to {_TAG_MAX} characters", field="tags")
    return tag


# --------------------------------------------------------------------------------------------
# Custom field definitions and values
# --------------------------------------------------------------------------------------------


def create_field(
    session: Session, workspace_id: int, key: str, type_: str, now: datetime, *,
    label: str = "", choices: list[str] | None = None,
) -> ContactField:
    if not _FIELD_KEY.match(key):
        raise Invalid("key: lowercase letters, digits and _, starting with a letter", field="key")
    if type_ not in FIELD_TYPES:
        raise Invalid(f"type: one of {', '.join(FIELD_TYPES)}", field="type")
    clean_choices = [c.strip() for c in (choices or []) if c.strip()]
    if type_ == "choice" and not clean_choices:
        raise Invalid("choices: a choice field needs at least one choice", field="choices")
    if type_ != "choice" and clean_choices:
        raise Invalid("choices: only choice fields have choices", field="choices")
    exists = session.scalar(
        select(ContactField.id).where(
            ContactField.workspace_id == workspace_id, ContactField.key == key
        )
    )
    if exists is not None:
        raise Conflict(f"a field '{key}' already exists", field="key")
    row = ContactField(
        workspace_id=workspace_id, key=key, label=label or key, type=type_,
        choices=clean_choices, created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def list_fields(session: Session, workspace_id: int) -> list[ContactField]:
    return list(
        session.scalars(
            select(ContactField)
            .where(ContactField.workspace_id == workspace_id)
            .order_by(ContactField.id)
        )
    )


def get_field(session: Session, workspace_id: int, field_id: int) -> ContactField:
    row = session.get(ContactField, field_id)
    if row is None or row.workspace_id != workspace_id:
        raise NotFound(f"field {field_id} not found")
    return row


def delete_field(session: Session, workspace_id: int, field_id: int) -> None:
    session.delete(get_field(session, workspace_id, field_id))


def coerce_field_value(definition: ContactField, value: Any) -> Any:
    """Validate one value against its definition; JSON-friendly result (dates as ISO)."""
    where = f"fields.{definition.key}"
    if value is None or value == "":
        return None
    kind = definition.type
    if kind == "text":
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise Invalid(f"{where}: expected text", field=where)
        return str(value)[:2000]
    if kind == "number":
        if isinstance(value, bool):
            raise Invalid(f"{where}: expected a number", field=where)
        if isinstance(value, int | float):
            return value
        try:
            number = float(str(value).strip().replace(",", "."))
        except ValueError:
            raise Invalid(f"{where}: '{value}' is not a number", field=where) from None
        return int(number) if number.is_integer() else number
    if kind == "date":
        try:
            return date.fromisoformat(str(value).strip()[:10]).isoformat()
        except ValueError:
            raise Invalid(f"{where}: '{value}' is not a date (YYYY-MM-DD)", field=where) from None
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "1", "yes", "si", "sí", "y"):
            return True
        if text in ("false", "0", "no", "n"):
            return False
        raise Invalid(f"{where}: '{value}' is not true or false", field=where)
    # choice
    text = str(value).strip()
    if text not in definition.choices:
        raise Invalid(
            f"{where}: '{text}' is not one of {', '.join(definition.choices)}", field=where
        )
    return text


def validate_fields(
    definitions: dict[str, ContactField], values: dict[str, Any]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        definition = definitions.get(key)
        if definition is None:
            raise Invalid(
                f"fields.{key}: no such custom field; create it first "
                "(POST /api/v1/contact-fields)",
                field=f"fields.{key}",
            )
        out[key] = coerce_field_value(definition, value)
    return out


def field_definitions(session: Session, workspace_id: int) -> dict[str, ContactField]:
    return {f.key: f for f in list_fields(session, workspace_id)}


# --------------------------------------------------------------------------------------------
# Contacts
# --------------------------------------------------------------------------------------------


class Normalized:
    """A ContactIn after validation, ready to apply (only attributes that were sent)."""

    def __init__(self, values: dict[str, Any], fields: dict[str, Any] | None) -> None:
        self.values = values
        self.fields = fields


def _workspace(session: Session, workspace_id: int) -> Workspace:
    ws = session.get(Workspace, workspace_id)
    if ws is None:
        raise NotFound("workspace not found")
    return ws


def normalize(
    data: ContactIn, *, default_country: str, default_timezone: str,
    definitions: dict[str, ContactField], now: datetime,
) -> Normalized:
    sent = data.model_fields_set
    values: dict[str, Any] = {}
    if "phone" in sent:
        if data.phone:
            e164, country = normalize_phone(data.phone, default_country)
            values.update(
                phone=e164, country=country, timezone=timezone_for(e164, default_timezone)
            )
        else:
            values["phone"] = None
    if "email" in sent:
        values["email"] = normalize_email(data.email) if data.email else None
    if "external_id" in sent:
        values["external_id"] = (data.external_id or "").strip() or None
    for attr in ("name", "first_name", "last_name"):
        if attr in sent:
            values[attr] = (getattr(data, attr) or "").strip()
    if "language" in sent:
        values["language"] = (data.language or "").strip().lower() or None
    if data.tags is not None:
        values["tags"] = list(dict.fromkeys(normalize_tag(t) for t in data.tags))
    if data.lead_score is not None:
        values["lead_score"] = data.lead_score
    if data.consent is not None:
        consent: dict[str, Any] = {}
        for channel, item in data.consent.items():
            if channel not in CHANNELS:
                raise Invalid(
                    f"consent.{channel}: unknown channel; use {', '.join(CHANNELS)}",
                    field=f"consent.{channel}",
                )
            consent[channel] = {
                "status": item.status, "source": item.source,
                "at": (item.at or now).isoformat(),
            }
        values["consent"] = consent
    if data.opted_out_marketing is not None:
        values["opted_out_marketing"] = data.opted_out_marketing
    if data.attribution is not None:
        bad = set(data.attribution.utm) - set(UTM_KEYS)
        if bad:
            raise Invalid(
                f"attribution.utm: unknown key {sorted(bad)[0]}; use {', '.join(UTM_KEYS)}",
                field="attribution.utm",
            )
        values["attribution"] = data.attribution
    fields = validate_fields(definitions, data.fields) if data.fields else None
    names_sent = "first_name" in values or "last_name" in values
    if "name" in values and not values["name"] and names_sent:
        values["name"] = " ".join(
            p for p in (values.get("first_name", ""), values.get("last_name", "")) if p
        )
    return Normalized(values, fields)


def _apply(contact: Contact, norm: Normalized, now: datetime) -> list[str]:
    """Apply normalised values; returns tags added (for events) — tags are replaced."""
    added: list[str] = []
    for key, value in norm.values.items():
        if key == "consent":
            merged = dict(contact.consent or {})
            merged.update(value)
            contact.consent = merged
        elif key == "attribution":
            _set_attribution(contact, value, now)
        elif key == "opted_out_marketing":
            if value and not contact.opted_out_marketing:
                contact.opted_out_marketing_at = now
            contact.opted_out_marketing = value
        elif key == "tags":
            before = set(contact.tags or [])
            added = [t for t in value if t not in before]
            contact.tags = value
        else:
            setattr(contact, key, value)
    if norm.fields is not None:
        merged_fields = dict(contact.fields or {})
        for key, value in norm.fields.items():
            if value is None:
                merged_fields.pop(key, None)
            else:
                merged_fields[key] = value
        contact.fields = merged_fields
    if not contact.name and (contact.first_name or contact.last_name):
        contact.name = " ".join(p for p in (contact.first_name, contact.last_name) if p)
    contact.updated_at = now
    return added


def _set_attribution(contact: Contact, attribution: AttributionIn, now: datetime) -> None:
    if contact.attribution:  # first touch wins
        return
    contact.attribution = {
        "source": attribution.source or ("ad" if attribution.referral else "utm"),
        "referral": attribution.referral,
        "utm": dict(attribution.utm),
        "at": now.isoformat(),
    }
    contact.utm_source = attribution.utm.get("source")
    contact.utm_medium = attribution.utm.get("medium")
    contact.utm_campaign = attribution.utm.get("campaign")
    referral = attribution.referral or {}
    ad = referral.get("source_id") or referral.get("ad_id")
    contact.ad_id = str(ad)[:100] if ad else None


def _check_unique(session: Session, contact: Contact) -> None:
    for attr in ("phone", "email", "external_id"):
        value = getattr(contact, attr)
        if value is None:
            continue
        column = getattr(Contact, attr)
        with session.no_autoflush:  # look before the pending change hits the constraint
            other = session.scalar(
                select(Contact.id).where(
                    Contact.workspace_id == contact.workspace_id, column == value,
                    Contact.id != (contact.id or 0),
                )
            )
        if other is not None:
            raise Conflict(
                f"{attr}: contact {other} already has {value}; update it or merge the two "
                f"(POST /api/v1/contacts/{other}/merge)",
                field=attr,
            )


def _emit_tags(
    session: Session, contact: Contact, added: list[str], removed: list[str], now: datetime
) -> None:
    from cauce.services.events import emit

    stamp = int(now.timestamp() * 1000)
    for name, tags in (("contact.tag_added", added), ("contact.tag_removed", removed)):
        for tag in tags:
            emit(
                session, contact.workspace_id, contact.id, name,
                {"tag": tag, "tags": list(contact.tags)},
                f"contact:{contact.id}:{name.split('.')[1]}:{tag}:{stamp}", now,
            )


def create_contact(
    session: Session, workspace_id: int, data: ContactIn, now: datetime, source: str = "api"
) -> Contact:
    contact, added = build_contact(session, workspace_id, data, now, source)
    _check_unique(session, contact)
    session.add(contact)
    session.flush()
    _emit_tags(session, contact, added, [], now)
    publish_contact(session, contact, "contact.created", now)
    return contact


def build_contact(
    session: Session, workspace_id: int, data: ContactIn, now: datetime, source: str = "api"
) -> tuple[Contact, list[str]]:
    """The new contact :func:`create_contact` would store (not added to the session) and the
    tags it gets; raises :class:`Invalid` as it would."""
    ws = _workspace(session, workspace_id)
    norm = normalize(
        data, default_country=ws.country, default_timezone=ws.timezone,
        definitions=field_definitions(session, workspace_id) if data.fields else {}, now=now,
    )
    if not any(norm.values.get(k) for k in ("phone", "email", "external_id")):
        raise Invalid("a contact needs a phone, an email or an external_id", field="phone")
    contact = Contact(
        workspace_id=workspace_id, fields={}, tags=[], consent={}, attribution={},
        lead_score=0, opted_out_marketing=False, source=source, created_at=now, updated_at=now,
    )
    added = _apply(contact, norm, now)
    if not contact.timezone:
        contact.timezone = ws.timezone
    return contact, added


def publish_contact(session: Session, contact: Contact, event: str, now: datetime) -> None:
    """The outbound webhook of a contact change (``contact.created`` / ``contact.updated``)."""
    from cauce.services import webhook_subscriptions

    webhook_subscriptions.publish(
        session, contact.workspace_id, event, webhook_subscriptions.contact_data(contact), now,
        contact_id=contact.id,
    )


def get_contact(session: Session, workspace_id: int, contact_id: int) -> Contact:
    contact = session.get(Contact, contact_id)
    if contact is None or contact.workspace_id != workspace_id or contact.merged_into_id:
        raise NotFound(f"contact {contact_id} not found")
    return contact


def update_contact(
    session: Session, workspace_id: int, contact_id: int, data: ContactIn, now: datetime
) -> Contact:
    contact = get_contact(session, workspace_id, contact_id)
    ws = _workspace(session, workspace_id)
    norm = normalize(
        data, default_country=ws.country, default_timezone=ws.timezone,
        definitions=field_definitions(session, workspace_id) if data.fields else {}, now=now,
    )
    from cauce.services.webhook_subscriptions import contact_data

    before = list(contact.tags or [])
    snapshot = contact_data(contact)
    added = _apply(contact, norm, now)
    if not (contact.phone or contact.email or contact.external_id):
        raise Invalid("a contact needs a phone, an email or an external_id", field="phone")
    _check_unique(session, contact)
    changed = contact_data(contact) != snapshot
    session.flush()
    removed = [t for t in before if t not in (contact.tags or [])]
    _emit_tags(session, contact, added, removed, now)
    if changed:
        publish_contact(session, contact, "contact.updated", now)
    return contact


def delete_contact(session: Session, workspace_id: int, contact_id: int) -> None:
    contact = get_contact(session, workspace_id, contact_id)
    session.execute(
        update(Contact).where(Contact.merged_into_id == contact.id).values(merged_into_id=None)
    )
    session.delete(contact)


def list_contacts(
    session: Session, workspace_id: int, *, limit: int | None = None, cursor: str | None = None,
    q: str | None = None, tag: str | None = None, segment_id: int | None = None,
) -> Page[Contact]:
    stmt = select(Contact).where(
        Contact.workspace_id == workspace_id, Contact.merged_into_id.is_(None)
    )
    if q:
        like = f"%{q.strip().lower()}%"
        stmt = stmt.where(
            or_(
                Contact.name.ilike(like), Contact.email.ilike(like), Contact.phone.ilike(like),
                Contact.external_id.ilike(like),
            )
        )
    if tag or segment_id:
        from cauce.services import segments

        if tag:
            stmt = stmt.where(segments.has_tag(session, tag))
        if segment_id:
            segment = segments.get_segment(session, workspace_id, segment_id)
            stmt = stmt.where(segments.compile_filter(session, workspace_id, segment.filter))
    return paginate(session, stmt, Contact.id, limit, cursor)


def add_tags(
    session: Session, workspace_id: int, contact_id: int, tags: list[str], now: datetime
) -> Contact:
    contact = get_contact(session, workspace_id, contact_id)
    new = [normalize_tag(t) for t in tags]
    added = [t for t in dict.fromkeys(new) if t not in (contact.tags or [])]
    if added:
        contact.tags = [*contact.tags, *added]
        contact.updated_at = now
        session.flush()
        _emit_tags(session, contact, added, [], now)
    return contact


def remove_tags(
    session: Session, workspace_id: int, contact_id: int, tags: list[str], now: datetime
) -> Contact:
    contact = get_contact(session, workspace_id, contact_id)
    gone = [t for t in dict.fromkeys(tags) if t in (contact.tags or [])]
    if gone:
        contact.tags = [t for t in contact.tags if t not in gone]
        contact.updated_at = now
        session.flush()
        _emit_tags(session, contact, [], gone, now)
    return contact


def record_activity(
    session: Session, workspace_id: int, contact_id: int, direction: Literal["in", "out"],
    at: datetime,
) -> None:
    """Remember the last inbound/outbound message time (the channels call this)."""
    contact = get_contact(session, workspace_id, contact_id)
    if direction == "in":
        if contact.last_inbound_at is None or at > contact.last_inbound_at:
            contact.last_inbound_at = at
    elif contact.last_outbound_at is None or at > contact.last_outbound_at:
        contact.last_outbound_at = at


def find_by_identifiers(
    session: Session, workspace_id: int, *, phone: str | None = None, email: str | None = None,
    external_id: str | None = None,
) -> list[Contact]:
    """Live contacts matching any of the (already normalised) identifiers, oldest first."""
    conds = []
    if external_id:
        conds.append(Contact.external_id == external_id)
    if phone:
        conds.append(Contact.phone == phone)
    if email:
        conds.append(Contact.email == email)
    if not conds:
        return []
    return list(
        session.scalars(
            select(Contact)
            .where(
                Contact.workspace_id == workspace_id, Contact.merged_into_id.is_(None),
                or_(*conds),
            )
            .order_by(Contact.id)
        )
    )


def upsert_contact(
    session: Session, workspace_id: int, data: ContactIn, now: datetime, source: str = "api"
) -> tuple[Contact, bool]:
    """Find the contact by external id, phone or email and update it, or create it.

    When the identifiers point at two different contacts they are the same person: the newer
    one is merged into the older. Returns ``(contact, created)``.
    """
    ws = _workspace(session, workspace_id)
    norm = normalize(
        data, default_country=ws.country, default_timezone=ws.timezone,
        definitions=field_definitions(session, workspace_id) if data.fields else {}, now=now,
    )
    v = norm.values
    matches = find_by_identifiers(
        session, workspace_id, phone=v.get("phone"), email=v.get("email"),
        external_id=v.get("external_id"),
    )
    if not matches:
        try:
            with session.begin_nested():
                return create_contact(session, workspace_id, data, now, source), True
        except (IntegrityError, Conflict):
            # Another request created this contact after our lookup (two events for a new
            # customer at once): create_contact's own check (Conflict) or the unique index
            # (IntegrityError) saw it. It is the same person: update it instead.
            matches = find_by_identifiers(
                session, workspace_id, phone=v.get("phone"), email=v.get("email"),
                external_id=v.get("external_id"),
            )
            if not matches:
                raise
    keep = matches[0]
    for other in matches[1:]:
        merge_contacts(session, workspace_id, keep.id, other.id, now)
    session.flush()
    return update_contact(session, workspace_id, keep.id, data, now), False


def _touched_before(a: Contact, b: Contact) -> bool:
    """Whether ``a``'s first touch is earlier than ``b``'s (a missing or unreadable time
    counts as later)."""
    def at(c: Contact) -> datetime:
        try:
            moment = datetime.fromisoformat(str((c.attribution or {}).get("at")))
        except ValueError:
            return datetime.max.replace(tzinfo=UTC)
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    return at(a) < at(b)


def merge_contacts(
    session: Session, workspace_id: int, keep_id: int, merge_id: int, now: datetime
) -> Contact:
    """Fold ``merge_id`` into ``keep_id``: identifiers, names, tags, fields and consent the
    kept contact lacks are taken over; opportunities and tickets move; the earliest first
    touch and the latest activity win. The merged row stays (pointing at the kept one) so
    other tables that refer to it keep working."""
    if keep_id == merge_id:
        raise Invalid("cannot merge a contact into itself", field="merge_id")
    keep = get_contact(session, workspace_id, keep_id)
    gone = get_contact(session, workspace_id, merge_id)
    ids = {a: getattr(gone, a) for a in ("phone", "email", "external_id")}
    gone.phone = gone.email = gone.external_id = None
    gone.merged_into_id = keep.id
    gone.updated_at = now
    session.flush()  # release the unique identifiers before the kept contact takes them
    for attr, value in ids.items():
        if value and not getattr(keep, attr):
            setattr(keep, attr, value)
    for attr in ("name", "first_name", "last_name", "language", "country"):
        if not getattr(keep, attr) and getattr(gone, attr):
            setattr(keep, attr, getattr(gone, attr))
    keep.tags = list(dict.fromkeys([*(keep.tags or []), *(gone.tags or [])]))
    keep.fields = {**(gone.fields or {}), **(keep.fields or {})}
    keep.consent = {**(gone.consent or {}), **(keep.consent or {})}
    keep.lead_score = max(keep.lead_score, gone.lead_score)
    keep.opted_out_marketing = keep.opted_out_marketing or gone.opted_out_marketing
    if gone.attribution and (not keep.attribution or _touched_before(gone, keep)):
        keep.attribution = gone.attribution
        keep.utm_source, keep.utm_medium = gone.utm_source, gone.utm_medium
        keep.utm_campaign, keep.ad_id = gone.utm_campaign, gone.ad_id
    for attr in ("last_inbound_at", "last_outbound_at"):
        times = [t for t in (getattr(keep, attr), getattr(gone, attr)) if t is not None]
        setattr(keep, attr, max(times) if times else None)
    keep.updated_at = now
    session.execute(
        update(Opportunity).where(Opportunity.contact_id == gone.id).values(contact_id=keep.id)
    )
    session.execute(update(Ticket).where(Ticket.contact_id == gone.id).values(contact_id=keep.id))
    session.execute(
        update(Contact).where(Contact.merged_into_id == gone.id).values(merged_into_id=keep.id)
    )
    session.flush()
    return keep
