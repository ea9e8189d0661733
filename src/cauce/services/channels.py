"""Channel configurations: create, list, update, test-send, decrypted config for delivery,
marking a channel broken, and the WhatsApp template registry.

Secrets (tokens, app secrets, passwords) are encrypted with the container's ``SecretBox`` and
never leave this module in clear except inside :func:`runtime_config`, which only delivery and
the webhooks use.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from cauce.channels import registry
from cauce.channels.base import ChannelError, OutboundMessage, SendResult
from cauce.channels.sms_http import check_config as check_http_sms_config
from cauce.logging import get_logger
from cauce.security import SecretBox
from cauce.services.auth import Principal, audit
from cauce.services.errors import Conflict, Invalid, NotFound
from cauce.store.models import AuditEntry, Channel, WhatsAppTemplate

log = get_logger(__name__)


@dataclass(frozen=True)
class KindSpec:
    """What a channel kind needs: its routing identifier, required settings and secrets."""

    identifier: str | None
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    secrets: tuple[str, ...] = ()
    required_secrets: tuple[str, ...] = ()


KIND_SPECS: dict[str, KindSpec] = {
    "whatsapp": KindSpec(
        identifier="phone_number_id", required=("phone_number_id", "waba_id"),
        optional=("graph_base_url", "graph_version", "display_phone_number", "timeout_seconds"),
        secrets=("access_token", "app_secret", "verify_token"),
        required_secrets=("access_token", "app_secret", "verify_token")),
    "email": KindSpec(
        identifier="from_address", required=("host", "from_address"),
        optional=("port", "security", "username", "from_name", "unsubscribe_url",
                  "unsubscribe_mailto", "timeout_seconds", "insecure_skip_verify"),
        secrets=("password", "bounce_token")),
    "sms_twilio": KindSpec(
        identifier="from_number", required=("account_sid",),
        optional=("from_number", "messaging_service_sid", "api_base_url", "status_callback_url",
                  "timeout_seconds"),
        secrets=("auth_token",), required_secrets=("auth_token",)),
    "sms_http": KindSpec(
        identifier="from_number", required=("url", "id_path"),
        optional=("from_number", "method", "body_format", "body", "headers", "success_path",
                  "success_value", "error_path", "status_callback_url", "status_id_field",
                  "status_field", "status_map", "error_field", "inbound_from_field",
                  "inbound_text_field", "inbound_id_field", "timeout_seconds"),
        secrets=("auth", "webhook_token")),
    "slack": KindSpec(identifier=None, optional=("timeout_seconds",),
                      secrets=("webhook_url",), required_secrets=("webhook_url",)),
    "webhook": KindSpec(identifier=None, required=("url",),
                        optional=("headers", "timeout_seconds"), secrets=("secret",)),
    "simulator": KindSpec(identifier=None),
}

# A flow names a channel by what it is ("sms"); these are the kinds that can carry each name.
FLOW_CHANNELS: dict[str, tuple[str, ...]] = {
    "whatsapp": ("whatsapp",), "sms": ("sms_twilio", "sms_http"), "email": ("email",),
    "slack": ("slack",), "webhook": ("webhook",), "simulator": ("simulator",),
}
STATUSES = ("active", "broken", "disabled")
TEMPLATE_STATUSES = ("approved", "pending", "rejected", "paused", "disabled", "in_appeal",
                     "pending_deletion", "deleted", "limit_exceeded")


class ChannelCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(examples=["whatsapp"])
    name: str = Field(min_length=1, max_length=100, examples=["Ventas"])
    config: dict[str, Any] = Field(default_factory=dict, examples=[
        {"phone_number_id": "106540352242922", "waba_id": "102290129340398"}])
    secrets: dict[str, Any] = Field(default_factory=dict, examples=[
        {"access_token": "EAAG...", "app_secret": "...", "verify_token": "..."}])
    rate_per_second: float | None = Field(default=None, gt=0, le=1000)


class ChannelUpdate(BaseModel):
    """Only what is sent changes; a secret sent replaces the stored one, ``null`` removes
    an optional setting."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=100)
    config: dict[str, Any] | None = None
    secrets: dict[str, Any] | None = None
    rate_per_second: float | None = Field(default=None, gt=0, le=1000)
    status: str | None = Field(default=None, examples=["active"])


def _spec(kind: str) -> KindSpec:
    try:
        registry.get_adapter(kind)
    except registry.UnknownChannel as exc:
        raise Invalid(str(exc), field="kind") from None
    return KIND_SPECS[kind]


def _check(kind: str, config: dict[str, Any], secrets: dict[str, Any]) -> None:
    spec = KIND_SPECS[kind]
    known = set(spec.required) | set(spec.optional)
    for key in config:
        if key in spec.secrets:
            raise Invalid(f"config.{key}: this is a secret; send it in 'secrets'",
                          field=f"config.{key}")
        if key not in known:
            raise Invalid(f"config.{key}: unknown setting for a {kind} channel; known: "
                          f"{', '.join(sorted(known)) or 'none'}", field=f"config.{key}")
    for key in spec.required:
        if config.get(key) in (None, ""):
            raise Invalid(f"config.{key}: required for a {kind} channel", field=f"config.{key}")
    for key in secrets:
        if key not in spec.secrets:
            raise Invalid(f"secrets.{key}: unknown secret for a {kind} channel; known: "
                          f"{', '.join(spec.secrets) or 'none'}", field=f"secrets.{key}")
    for key in spec.required_secrets:
        if secrets.get(key) in (None, ""):
            raise Invalid(f"secrets.{key}: required for a {kind} channel",
                          field=f"secrets.{key}")
    if kind == "sms_twilio" and not (config.get("from_number")
                                     or config.get("messaging_service_sid")):
        raise Invalid("config.from_number: a Twilio channel needs from_number or "
                      "messaging_service_sid", field="config.from_number")
    if kind == "email" and config.get("security", "starttls") not in ("starttls", "tls", "none"):
        raise Invalid("config.security: use starttls, tls or none", field="config.security")
    if kind == "sms_http":
        problems = check_http_sms_config({**config, **secrets})
        if problems:
            field = problems[0].split(":", 1)[0]
            raise Invalid(problems[0], field=f"config.{field}")
    if kind == "slack" and not str(secrets.get("webhook_url", "")).startswith("https://"):
        raise Invalid("secrets.webhook_url: a Slack incoming-webhook URL "
                      "(https://hooks.slack.com/services/...)", field="secrets.webhook_url")


def _identifier(kind: str, config: dict[str, Any]) -> str | None:
    spec = KIND_SPECS[kind]
    value = config.get(spec.identifier) if spec.identifier else None
    return str(value) if value not in (None, "") else None


def _ensure_unique(session: Session, channel: Channel) -> None:
    if channel.identifier:
        other = session.scalar(select(Channel).where(
            Channel.kind == channel.kind, Channel.identifier == channel.identifier,
            Channel.id != (channel.id or -1)))
        if other is not None:
            field = KIND_SPECS[channel.kind].identifier
            where = " in this workspace" if other.workspace_id == channel.workspace_id else ""
            raise Conflict(f"config.{field}: '{channel.identifier}' is already connected{where}",
                           field=f"config.{field}")
    same_name = session.scalar(select(Channel.id).where(
        Channel.workspace_id == channel.workspace_id, Channel.name == channel.name,
        Channel.id != (channel.id or -1)))
    if same_name is not None:
        raise Conflict(f"name: a channel called '{channel.name}' already exists", field="name")


def secrets_of(box: SecretBox, channel: Channel) -> dict[str, Any]:
    if not channel.secrets:
        return {}
    data: dict[str, Any] = json.loads(box.decrypt(channel.secrets))
    return data


def secret_names(box: SecretBox, channel: Channel) -> list[str]:
    """Which secrets are set (never their values)."""
    return sorted(secrets_of(box, channel))


def create_channel(session: Session, box: SecretBox, principal: Principal, data: ChannelCreate,
                   now: datetime) -> Channel:
    _spec(data.kind)
    config = {k: v for k, v in data.config.items() if v is not None}
    secrets = {k: v for k, v in data.secrets.items() if v not in (None, "")}
    _check(data.kind, config, secrets)
    channel = Channel(
        workspace_id=principal.workspace_id, kind=data.kind, name=data.name.strip(),
        identifier=_identifier(data.kind, config), config=config,
        secrets=box.encrypt(json.dumps(secrets)) if secrets else "", status="active",
        status_reason="", rate_per_second=data.rate_per_second, created_at=now, updated_at=now)
    _ensure_unique(session, channel)
    session.add(channel)
    session.flush()
    audit(session, principal, now, "channel.created", f"channel:{channel.id}", kind=data.kind,
          name=channel.name)
    return channel


def list_channels(session: Session, workspace_id: int, kind: str | None = None) -> list[Channel]:
    query = select(Channel).where(Channel.workspace_id == workspace_id)
    if kind:
        query = query.where(Channel.kind == kind)
    return list(session.scalars(query.order_by(Channel.id)))


def get_channel(session: Session, workspace_id: int, channel_id: int) -> Channel:
    channel = session.get(Channel, channel_id)
    if channel is None or channel.workspace_id != workspace_id:
        raise NotFound(f"channel {channel_id} not found")
    return channel


def update_channel(session: Session, box: SecretBox, principal: Principal, channel_id: int,
                   data: ChannelUpdate, now: datetime) -> Channel:
    channel = get_channel(session, principal.workspace_id, channel_id)
    config = dict(channel.config or {})
    if data.config is not None:
        for key, value in data.config.items():
            if value is None:
                config.pop(key, None)
            else:
                config[key] = value
    secrets = secrets_of(box, channel)
    if data.secrets is not None:
        for key, value in data.secrets.items():
            if value in (None, ""):
                secrets.pop(key, None)
            else:
                secrets[key] = value
    _check(channel.kind, config, secrets)
    channel.config = config
    channel.identifier = _identifier(channel.kind, config)
    channel.secrets = box.encrypt(json.dumps(secrets)) if secrets else ""
    if data.name is not None:
        channel.name = data.name.strip()
    if data.rate_per_second is not None:
        channel.rate_per_second = data.rate_per_second
    if data.status is not None:
        if data.status not in STATUSES:
            raise Invalid(f"status: use one of {', '.join(STATUSES)}", field="status")
        channel.status = data.status
        if data.status == "active":
            channel.status_reason, channel.broken_at = "", None
    elif data.secrets and channel.status == "broken":
        # New credentials are the fix for a broken channel; the next send proves them.
        channel.status, channel.status_reason, channel.broken_at = "active", "", None
    _ensure_unique(session, channel)
    channel.updated_at = now
    changed = sorted((data.config or {}).keys()) + [f"secret:{k}" for k in (data.secrets or {})]
    audit(session, principal, now, "channel.updated", f"channel:{channel.id}", changed=changed)
    return channel


def delete_channel(session: Session, principal: Principal, channel_id: int, now: datetime) -> None:
    channel = get_channel(session, principal.workspace_id, channel_id)
    audit(session, principal, now, "channel.deleted", f"channel:{channel.id}", name=channel.name)
    session.delete(channel)


def mark_broken(session: Session, channel: Channel, reason: str, now: datetime) -> bool:
    """Stop using a channel whose credentials were rejected and alert the owner (an audit
    entry the dashboard shows, plus an error log line). True when it was not broken before."""
    if channel.status == "broken":
        return False
    channel.status, channel.status_reason, channel.broken_at = "broken", reason[:500], now
    channel.updated_at = now
    session.add(AuditEntry(workspace_id=channel.workspace_id, at=now, actor="system",
                           action="channel.broken", target=f"channel:{channel.id}",
                           details={"reason": reason, "alert": "owner"}))
    log.error("channel_broken", channel_id=channel.id, kind=channel.kind, reason=reason)
    return True


def runtime_config(session: Session, box: SecretBox, channel: Channel) -> dict[str, Any]:
    """Everything the adapter needs, secrets decrypted; for WhatsApp also the template
    registry's statuses (``"name:language" -> status``) when templates are registered."""
    config: dict[str, Any] = {**(channel.config or {}), **secrets_of(box, channel)}
    if channel.kind in ("whatsapp", "simulator"):
        rows = session.execute(select(WhatsAppTemplate.name, WhatsAppTemplate.language,
                                      WhatsAppTemplate.status)
                               .where(WhatsAppTemplate.channel_id == channel.id)).all()
        if rows:
            config["templates"] = {f"{n}:{lang}": st for n, lang, st in rows}
    return config


def _box(session: Session) -> SecretBox:
    box = session.info.get("secrets")
    if not isinstance(box, SecretBox):
        raise RuntimeError("session has no SecretBox in info['secrets']; open it from Cauce")
    return box


def find_for_flow(session: Session, workspace_id: int, channel: str) -> Channel | None:
    """The workspace's active channel for a flow's channel name (``whatsapp``, ``sms``...) or
    a channel's own name; the oldest one wins when there are several."""
    kinds = FLOW_CHANNELS.get(channel)
    query = select(Channel).where(Channel.workspace_id == workspace_id,
                                  Channel.status == "active")
    query = query.where(Channel.kind.in_(kinds) if kinds else Channel.name == channel)
    return session.scalars(query.order_by(Channel.id)).first()


def resolve_for_delivery(
    session: Session, workspace_id: int, channel: str,
) -> tuple[str, dict[str, Any], str, float | None] | None:
    """For the runtime's delivery: ``(adapter kind, decrypted config, sender, rate limit)`` of
    the channel a flow names, or ``None`` when the workspace has none active. The rate is the
    channel's own ``rate_per_second`` (None: the adapter's default, e.g. 80/s for WhatsApp)."""
    found = find_for_flow(session, workspace_id, channel)
    if found is None:
        return None
    sender = found.identifier or f"{found.kind}:{found.id}"
    rate = float(found.rate_per_second) if found.rate_per_second else None
    return found.kind, runtime_config(session, _box(session), found), sender, rate


def resolve_replies_for_delivery(
    session: Session, wanted: set[tuple[int, int, str]],
) -> dict[tuple[int, int, str], tuple[str, dict[str, Any], str, float | None, int]]:
    """Per ``(workspace, contact, flow channel name)``: when the workspace has more than one
    active channel of that kind, the one the contact last wrote to — ``(kind, config, sender,
    rate, channel id)``. A reply must leave from the number the contact wrote to: WhatsApp's
    24-hour window is per business number, so the workspace's first number could not send
    free text to someone who wrote to its second. Missing from the answer: workspaces with
    one channel of the kind (nothing to choose), and contacts who never wrote on one of
    them (the first channel, as :func:`resolve_for_delivery` says)."""
    from sqlalchemy import func

    from cauce.store.models.messages import Message

    several: dict[tuple[int, str], dict[int, Channel]] = {}
    for ws, name in sorted({(ws, name) for ws, _, name in wanted if name in FLOW_CHANNELS}):
        found = session.scalars(select(Channel).where(
            Channel.workspace_id == ws, Channel.status == "active",
            Channel.kind.in_(FLOW_CHANNELS[name]))).all()
        if len(found) > 1:
            several[(ws, name)] = {c.id: c for c in found}
    if not several:
        return {}
    contacts = sorted({c for ws, c, name in wanted if (ws, name) in several})
    last: dict[tuple[Any, Any], datetime] = {}  # (contact, channel id) -> last inbound
    for contact_id, channel_id, at in session.execute(
        select(Message.contact_id, Message.channel_id, func.max(Message.created_at))
        .where(Message.contact_id.in_(contacts), Message.direction == "in",
               Message.channel_id.is_not(None))
        .group_by(Message.contact_id, Message.channel_id)
    ):
        last[(contact_id, channel_id)] = at
    heard: dict[int, list[tuple[datetime, int]]] = {}
    for (contact_id, channel_id), at in last.items():
        heard.setdefault(contact_id, []).append((at, channel_id))
    box = _box(session)
    resolved: dict[int, tuple[str, dict[str, Any], str, float | None, int]] = {}
    out: dict[tuple[int, int, str], tuple[str, dict[str, Any], str, float | None, int]] = {}
    for ws, contact_id, name in wanted:
        candidates = several.get((ws, name))
        if not candidates:
            continue
        mine = [(at, cid) for at, cid in heard.get(contact_id, []) if cid in candidates]
        if not mine:
            continue
        channel = candidates[max(mine)[1]]
        if channel.id not in resolved:  # decrypted once per channel, not per contact
            rate = float(channel.rate_per_second) if channel.rate_per_second else None
            resolved[channel.id] = (
                channel.kind, runtime_config(session, box, channel),
                channel.identifier or f"{channel.kind}:{channel.id}", rate, channel.id)
        out[(ws, contact_id, name)] = resolved[channel.id]
    return out


def handle_send_result(session: Session, channel: Channel, result: SendResult,
                       now: datetime) -> ChannelError | None:
    """Apply what a send result says about the channel itself (a rejected token breaks it)."""
    error = result.error
    if error is not None and error.action.value == "channel_broken":
        mark_broken(session, channel, error.reason, now)
    return error


def test_send(session: Session, box: SecretBox, principal: Principal, channel_id: int,
              to: str, text: str, now: datetime) -> SendResult:
    """Send one message through the channel now (outside any flow) to check its settings."""
    channel = get_channel(session, principal.workspace_id, channel_id)
    if not to:
        raise Invalid("to: who should receive the test message", field="to")
    kind = "email" if channel.kind == "email" else "text"
    payload: dict[str, Any] = {"text": text}
    if channel.kind == "email":
        payload["subject"] = "Cauce test message"
    message = OutboundMessage(key=f"test-{channel.id}-{int(now.timestamp() * 1000)}",
                              channel=channel.kind, kind=kind, to=to, payload=payload)
    result = registry.get_adapter(channel.kind).send(message, runtime_config(session, box,
                                                                             channel))
    handle_send_result(session, channel, result, now)
    if result.status == "sent" and channel.status == "broken":
        channel.status, channel.status_reason, channel.broken_at = "active", "", None
    audit(session, principal, now, "channel.test_sent", f"channel:{channel.id}",
          status=result.status, error=result.error.reason if result.error else None)
    return result


# --------------------------------------------------------------------------------------------
# WhatsApp templates
# --------------------------------------------------------------------------------------------


class TemplateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=512, examples=["recordatorio_cita"])
    language: str = Field(min_length=2, max_length=16, examples=["es_AR"])
    category: str = Field(default="utility", examples=["marketing"])
    status: str = Field(default="approved", examples=["approved"])
    components: list[dict[str, Any]] = Field(default_factory=list)


def _whatsapp_channel(session: Session, workspace_id: int, channel_id: int) -> Channel:
    channel = get_channel(session, workspace_id, channel_id)
    if channel.kind not in ("whatsapp", "simulator"):
        raise Invalid(f"channel {channel_id} is a {channel.kind} channel; templates belong to "
                      "WhatsApp numbers", field="channel_id")
    return channel


def list_templates(session: Session, workspace_id: int, channel_id: int) -> list[WhatsAppTemplate]:
    _whatsapp_channel(session, workspace_id, channel_id)
    return list(session.scalars(select(WhatsAppTemplate).where(
        WhatsAppTemplate.channel_id == channel_id).order_by(WhatsAppTemplate.name,
                                                            WhatsAppTemplate.language)))


def upsert_template(session: Session, principal: Principal, channel_id: int, data: TemplateIn,
                    now: datetime, *, source: str = "manual") -> WhatsAppTemplate:
    _whatsapp_channel(session, principal.workspace_id, channel_id)
    status = data.status.lower()
    if status not in TEMPLATE_STATUSES:
        raise Invalid(f"status: use one of {', '.join(TEMPLATE_STATUSES)}", field="status")
    category = data.category.lower()
    if category not in ("marketing", "utility", "authentication"):
        raise Invalid("category: use marketing, utility or authentication", field="category")
    row = session.scalar(select(WhatsAppTemplate).where(
        WhatsAppTemplate.channel_id == channel_id, WhatsAppTemplate.name == data.name,
        WhatsAppTemplate.language == data.language))
    if row is None:
        row = WhatsAppTemplate(workspace_id=principal.workspace_id, channel_id=channel_id,
                               name=data.name, language=data.language, updated_at=now)
        session.add(row)
    row.category, row.status, row.components = category, status, data.components
    row.source, row.updated_at = source, now
    session.flush()
    if source == "manual":  # a sync is audited once, as channel.templates_synced
        audit(session, principal, now, "template.saved", f"template:{row.id}",
              channel_id=channel_id, name=row.name, language=row.language, status=status,
              category=category)
    return row


def delete_template(session: Session, principal: Principal, channel_id: int,
                    template_id: int, now: datetime) -> None:
    _whatsapp_channel(session, principal.workspace_id, channel_id)
    row = session.get(WhatsAppTemplate, template_id)
    if row is None or row.channel_id != channel_id:
        raise NotFound(f"template {template_id} not found")
    audit(session, principal, now, "template.deleted", f"template:{row.id}",
          channel_id=channel_id, name=row.name, language=row.language)
    session.delete(row)


def sync_templates(session: Session, box: SecretBox, principal: Principal, channel_id: int,
                   now: datetime) -> list[WhatsAppTemplate]:
    """Fetch every template of the number's WhatsApp Business Account from Meta and store it
    (templates removed at Meta are marked ``deleted`` so old flows show why they fail)."""
    from cauce.channels.whatsapp.client import GraphError, WhatsAppAdapter

    channel = _whatsapp_channel(session, principal.workspace_id, channel_id)
    if channel.kind != "whatsapp":
        raise Invalid("only WhatsApp numbers sync templates from Meta", field="channel_id")
    adapter = registry.get_adapter("whatsapp")
    assert isinstance(adapter, WhatsAppAdapter)
    try:
        remote = adapter.list_templates(runtime_config(session, box, channel))
    except GraphError as exc:
        if exc.error.action.value == "channel_broken":
            mark_broken(session, channel, exc.error.reason, now)
        raise Invalid(f"could not fetch templates from Meta: {exc.error.reason}",
                      field="channel_id", code="provider_error") from None
    seen: set[tuple[str, str]] = set()
    for item in remote:
        name, language = str(item.get("name") or ""), str(item.get("language") or "")
        if not name or not language:
            continue
        seen.add((name, language))
        status = str(item.get("status") or "pending").lower()
        category = str(item.get("category") or "utility").lower()
        row = session.scalar(select(WhatsAppTemplate).where(
            WhatsAppTemplate.channel_id == channel_id, WhatsAppTemplate.name == name,
            WhatsAppTemplate.language == language))
        if row is None:
            row = WhatsAppTemplate(workspace_id=channel.workspace_id, channel_id=channel_id,
                                   name=name, language=language, updated_at=now)
            session.add(row)
        row.status = status if status in TEMPLATE_STATUSES else "pending"
        row.category = category if category in ("marketing", "utility",
                                                "authentication") else "utility"
        row.components = [c for c in item.get("components") or [] if isinstance(c, dict)]
        row.provider_id = str(item.get("id")) if item.get("id") else None
        row.source, row.synced_at, row.updated_at = "synced", now, now
    for row in session.scalars(select(WhatsAppTemplate).where(
            WhatsAppTemplate.channel_id == channel_id, WhatsAppTemplate.source == "synced")):
        if (row.name, row.language) not in seen and row.status != "deleted":
            row.status, row.updated_at = "deleted", now
    session.flush()
    audit(session, principal, now, "channel.templates_synced", f"channel:{channel.id}",
          count=len(seen))
    return list_templates(session, principal.workspace_id, channel_id)


def fetch_media(session: Session, box: SecretBox, workspace_id: int, channel_id: int,
                media_id: str) -> Any:
    """Download an inbound WhatsApp media object through the media API (on demand: media is
    not copied when the message arrives)."""
    from cauce.channels.whatsapp.client import GraphError, WhatsAppAdapter

    channel = get_channel(session, workspace_id, channel_id)
    if channel.kind != "whatsapp":
        raise Invalid(f"channel {channel_id} is not a WhatsApp number", field="channel_id")
    adapter = registry.get_adapter("whatsapp")
    assert isinstance(adapter, WhatsAppAdapter)
    try:
        return adapter.fetch_media(media_id, runtime_config(session, box, channel))
    except GraphError as exc:
        raise NotFound(f"media {media_id}: {exc.error.reason}", code="media_unavailable") \
            from None


def ensure_simulator_channel(session: Session, workspace_id: int, now: datetime) -> Channel:
    """The workspace's simulator channel, created the first time the simulator is used."""
    found = session.scalars(select(Channel).where(
        Channel.workspace_id == workspace_id, Channel.kind == "simulator")
        .order_by(Channel.id)).first()
    if found is not None:
        return found
    channel = Channel(workspace_id=workspace_id, kind="simulator", name="Simulator",
                      identifier=None, config={}, secrets="", status="active", status_reason="",
                      created_at=now, updated_at=now)
    session.add(channel)
    session.flush()
    return channel
