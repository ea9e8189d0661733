"""Channels: connect WhatsApp numbers, SMTP, SMS providers, Slack, webhooks; test them; read
inbound media. Secrets are accepted on create/update and never returned."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from cauce.api.deps import CauceDep, PrincipalDep, SessionDep
from cauce.api.errors import ERROR_RESPONSES
from cauce.api.pagination import IdPath
from cauce.channels import registry
from cauce.services import channels as service
from cauce.store.models import Channel

router = APIRouter(prefix="/channels", tags=["channels"], responses=ERROR_RESPONSES)


class ChannelPublic(BaseModel):
    id: int
    kind: str
    name: str
    identifier: str | None
    config: dict[str, Any]
    secrets_set: list[str] = Field(description="Names of the secrets stored (never values).")
    status: str
    status_reason: str
    broken_at: datetime | None
    rate_per_second: float | None
    webhook_path: str | None = Field(description="Where this channel's provider calls us.")
    created_at: datetime
    updated_at: datetime


class ChannelList(BaseModel):
    items: list[ChannelPublic]
    kinds: list[str]


class TestSend(BaseModel):
    to: str = Field(min_length=1, examples=["5491122334455"])
    text: str = Field(default="Cauce test message", min_length=1, max_length=1000)


class TestResult(BaseModel):
    status: str
    provider_id: str | None
    error_code: str | None
    error_reason: str | None
    error_action: str | None


def _webhook_path(channel: Channel) -> str | None:
    return {"whatsapp": "/webhooks/whatsapp", "sms_twilio": "/webhooks/sms/twilio",
            "sms_http": f"/webhooks/sms/{channel.id}?token=<webhook_token>",
            "email": "/webhooks/email/bounces"}.get(channel.kind)


def public(channel: Channel, secret_names: list[str]) -> ChannelPublic:
    return ChannelPublic(
        id=channel.id, kind=channel.kind, name=channel.name, identifier=channel.identifier,
        config=dict(channel.config or {}), secrets_set=secret_names, status=channel.status,
        status_reason=channel.status_reason, broken_at=channel.broken_at,
        rate_per_second=channel.rate_per_second, webhook_path=_webhook_path(channel),
        created_at=channel.created_at, updated_at=channel.updated_at)


@router.post("", operation_id="create_channel", status_code=201)
def create_channel(body: service.ChannelCreate, session: SessionDep, principal: PrincipalDep,
                   cauce: CauceDep) -> ChannelPublic:
    principal.require("admin")
    row = service.create_channel(session, cauce.secrets, principal, body, cauce.clock.now())
    return public(row, service.secret_names(cauce.secrets, row))


@router.get("", operation_id="list_channels")
def list_channels(session: SessionDep, principal: PrincipalDep, cauce: CauceDep,
                  kind: str | None = None) -> ChannelList:
    rows = service.list_channels(session, principal.workspace_id, kind)
    return ChannelList(items=[public(r, service.secret_names(cauce.secrets, r)) for r in rows],
                       kinds=registry.kinds())


@router.get("/{channel_id}", operation_id="get_channel")
def get_channel(channel_id: IdPath, session: SessionDep, principal: PrincipalDep,
                cauce: CauceDep) -> ChannelPublic:
    row = service.get_channel(session, principal.workspace_id, channel_id)
    return public(row, service.secret_names(cauce.secrets, row))


@router.patch("/{channel_id}", operation_id="update_channel")
def update_channel(channel_id: IdPath, body: service.ChannelUpdate, session: SessionDep,
                   principal: PrincipalDep, cauce: CauceDep) -> ChannelPublic:
    principal.require("admin")
    row = service.update_channel(session, cauce.secrets, principal, channel_id, body,
                                 cauce.clock.now())
    return public(row, service.secret_names(cauce.secrets, row))


@router.delete("/{channel_id}", operation_id="delete_channel", status_code=204)
def delete_channel(channel_id: IdPath, session: SessionDep, principal: PrincipalDep,
                   cauce: CauceDep) -> Response:
    principal.require("admin")
    service.delete_channel(session, principal, channel_id, cauce.clock.now())
    return Response(status_code=204)


@router.post("/{channel_id}/test", operation_id="test_channel")
def test_channel(channel_id: IdPath, body: TestSend, session: SessionDep, principal: PrincipalDep,
                 cauce: CauceDep) -> TestResult:
    """Send one message now to check the settings; a rejected token marks the channel broken."""
    principal.require("admin")
    result = service.test_send(session, cauce.secrets, principal, channel_id, body.to,
                               body.text, cauce.clock.now())
    error = result.error
    return TestResult(status=result.status, provider_id=result.provider_id,
                      error_code=error.code if error else None,
                      error_reason=error.reason if error else None,
                      error_action=error.action.value if error else None)


@router.get("/{channel_id}/media/{media_id}", operation_id="get_channel_media",
            response_class=Response)
def get_media(channel_id: IdPath, media_id: str, session: SessionDep, principal: PrincipalDep,
              cauce: CauceDep) -> Response:
    """An inbound WhatsApp media file, fetched from Meta's media API on demand."""
    media = service.fetch_media(session, cauce.secrets, principal.workspace_id, channel_id,
                                media_id)
    return Response(media.content, media_type=media.mime_type)
