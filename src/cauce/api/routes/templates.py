"""WhatsApp message templates per number: synced from Meta or entered by hand."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel

from cauce.api.deps import CauceDep, PrincipalDep, SessionDep
from cauce.api.errors import ERROR_RESPONSES
from cauce.api.pagination import IdPath
from cauce.services import channels as service
from cauce.store.models import WhatsAppTemplate

router = APIRouter(prefix="/channels/{channel_id}/templates", tags=["templates"],
                   responses=ERROR_RESPONSES)


class TemplatePublic(BaseModel):
    id: int
    name: str
    language: str
    category: str
    status: str
    components: list[dict[str, Any]]
    source: str
    synced_at: datetime | None
    updated_at: datetime


class TemplateList(BaseModel):
    items: list[TemplatePublic]


def _public(row: WhatsAppTemplate) -> TemplatePublic:
    return TemplatePublic.model_validate(row, from_attributes=True)


@router.get("", operation_id="list_templates")
def list_templates(channel_id: IdPath, session: SessionDep,
                   principal: PrincipalDep) -> TemplateList:
    rows = service.list_templates(session, principal.workspace_id, channel_id)
    return TemplateList(items=[_public(r) for r in rows])


@router.post("", operation_id="upsert_template", status_code=201)
def upsert_template(channel_id: IdPath, body: service.TemplateIn, session: SessionDep,
                    principal: PrincipalDep, cauce: CauceDep) -> TemplatePublic:
    """Add or edit a template by (name, language) — for tests and the simulator, or to mirror
    a status change before the next sync."""
    principal.require("editor")
    return _public(service.upsert_template(session, principal, channel_id, body,
                                           cauce.clock.now()))


@router.delete("/{template_id}", operation_id="delete_template", status_code=204)
def delete_template(channel_id: IdPath, template_id: IdPath, session: SessionDep,
                    principal: PrincipalDep, cauce: CauceDep) -> Response:
    principal.require("editor")
    service.delete_template(session, principal, channel_id, template_id, cauce.clock.now())
    return Response(status_code=204)


@router.post("/sync", operation_id="sync_templates")
def sync_templates(channel_id: IdPath, session: SessionDep, principal: PrincipalDep,
                   cauce: CauceDep) -> TemplateList:
    """Fetch the number's templates from Meta (``GET /{waba_id}/message_templates``)."""
    principal.require("editor")
    rows = service.sync_templates(session, cauce.secrets, principal, channel_id,
                                  cauce.clock.now())
    return TemplateList(items=[_public(r) for r in rows])
