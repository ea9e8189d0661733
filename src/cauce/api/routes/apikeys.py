"""API keys: create (shown once), list, revoke."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from cauce.api.deps import CauceDep, PrincipalDep, SessionDep
from cauce.api.errors import ERROR_RESPONSES
from cauce.api.pagination import IdPath
from cauce.services import auth

router = APIRouter(prefix="/apikeys", tags=["api keys"], responses=ERROR_RESPONSES)


class ApiKeyCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200, examples=["shop integration"])
    role: str = Field(default="admin", examples=["editor"])


class ApiKeyPublic(BaseModel):
    id: int
    name: str
    prefix: str
    role: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(BaseModel):
    id: int
    name: str
    key: str = Field(description="The key itself. Shown only in this answer.")


class ApiKeyList(BaseModel):
    items: list[ApiKeyPublic]


@router.post("", operation_id="create_api_key", status_code=201)
def create_api_key(
    body: ApiKeyCreate, session: SessionDep, principal: PrincipalDep, cauce: CauceDep
) -> ApiKeyCreated:
    principal.require("admin")
    created = auth.create_api_key(
        session, principal.workspace_id, body.name, cauce.clock.now(), body.role, principal
    )
    return ApiKeyCreated(id=created.id, name=created.name, key=created.key)


@router.get("", operation_id="list_api_keys")
def list_api_keys(session: SessionDep, principal: PrincipalDep) -> ApiKeyList:
    principal.require("admin")
    rows = auth.list_api_keys(session, principal.workspace_id)
    return ApiKeyList(items=[ApiKeyPublic.model_validate(r, from_attributes=True) for r in rows])


@router.delete("/{key_id}", operation_id="revoke_api_key")
def revoke_api_key(
    key_id: IdPath, session: SessionDep, principal: PrincipalDep, cauce: CauceDep
) -> ApiKeyPublic:
    principal.require("admin")
    row = auth.revoke_api_key(session, principal, key_id, cauce.clock.now())
    return ApiKeyPublic.model_validate(row, from_attributes=True)
