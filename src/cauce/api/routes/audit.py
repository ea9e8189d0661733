"""The audit log: who changed flows, channels, templates, keys and users."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from cauce.api.deps import PrincipalDep, SessionDep
from cauce.api.errors import ERROR_RESPONSES
from cauce.api.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, PageOut
from cauce.services import users

router = APIRouter(prefix="/audit", tags=["audit"], responses=ERROR_RESPONSES)


class AuditPublic(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    target: str
    details: dict[str, Any]
    note: str


@router.get("", operation_id="list_audit")
def list_audit(
    session: SessionDep, principal: PrincipalDep, limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
    action: Annotated[str | None, Query(max_length=64, examples=["apikey.created"])] = None,
    actor: Annotated[str | None, Query(max_length=254, examples=["user:3"])] = None,
) -> PageOut[AuditPublic]:
    """Oldest first; filter by action (prefix ``flow.`` matches every flow action) or actor."""
    page = users.list_audit(
        session, principal, limit=limit, cursor=cursor, action=action, actor=actor
    )
    return PageOut(
        items=[AuditPublic.model_validate(r, from_attributes=True) for r in page.items],
        next_cursor=page.next_cursor,
    )
