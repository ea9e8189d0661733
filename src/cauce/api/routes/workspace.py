"""The caller's workspace."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from cauce.api.deps import PrincipalDep, SessionDep
from cauce.api.errors import ERROR_RESPONSES
from cauce.services.errors import NotFound
from cauce.store.models import Workspace

router = APIRouter(prefix="/workspace", tags=["workspace"], responses=ERROR_RESPONSES)


class WorkspacePublic(BaseModel):
    id: int
    slug: str
    name: str
    timezone: str
    country: str
    language: str
    role: str


@router.get("", operation_id="get_workspace")
def get_workspace(session: SessionDep, principal: PrincipalDep) -> WorkspacePublic:
    ws = session.get(Workspace, principal.workspace_id)
    if ws is None:
        raise NotFound("workspace not found")
    return WorkspacePublic(
        id=ws.id, slug=ws.slug, name=ws.name, timezone=ws.timezone, country=ws.country,
        language=ws.language, role=principal.role,
    )
