"""Opportunities. Every change is recorded and sent to flows as ``opportunity.changed``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from cauce.api.deps import CauceDep, PrincipalDep, SessionDep
from cauce.api.errors import ERROR_RESPONSES
from cauce.api.pagination import DEFAULT_LIMIT, CursorQuery, IdPath, IdQuery, LimitQuery, PageOut
from cauce.services import opportunities
from cauce.services.opportunities import OpportunityIn, Status
from cauce.store.models import Opportunity

router = APIRouter(prefix="/opportunities", tags=["opportunities"], responses=ERROR_RESPONSES)


class OpportunityPublic(BaseModel):
    id: int
    contact_id: IdPath
    pipeline_id: IdPath
    pipeline: str
    stage_id: int
    stage: str
    name: str
    status: str
    value: float
    currency: str
    owner_id: int | None
    tags: list[str]
    stage_entered_at: datetime
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None


class ChangePublic(BaseModel):
    id: int
    at: datetime
    actor: str
    changes: dict[str, Any]


def present(session: Session, row: Opportunity) -> OpportunityPublic:
    pipeline, stage = opportunities.names_of(session, row)
    return OpportunityPublic(
        id=row.id, contact_id=row.contact_id, pipeline_id=row.pipeline_id, pipeline=pipeline,
        stage_id=row.stage_id, stage=stage, name=row.name, status=row.status,
        value=float(row.value), currency=row.currency, owner_id=row.owner_id, tags=row.tags,
        stage_entered_at=row.stage_entered_at, created_at=row.created_at,
        updated_at=row.updated_at, closed_at=row.closed_at,
    )


@router.post("", operation_id="create_opportunity", status_code=201)
def create_opportunity(
    body: OpportunityIn, session: SessionDep, principal: PrincipalDep, cauce: CauceDep
) -> OpportunityPublic:
    principal.require("agent")
    row = opportunities.create_opportunity(
        session, principal.workspace_id, body, cauce.clock.now(), principal.actor
    )
    return present(session, row)


@router.get("", operation_id="list_opportunities")
def list_opportunities(
    session: SessionDep, principal: PrincipalDep, limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
    pipeline_id: IdQuery = None,
    stage_id: IdQuery = None,
    status: Status | None = None,
    contact_id: IdQuery = None,
    owner_id: IdQuery = None,
) -> PageOut[OpportunityPublic]:
    page = opportunities.list_opportunities(
        session, principal.workspace_id, limit=limit, cursor=cursor, pipeline_id=pipeline_id,
        stage_id=stage_id, status=status, contact_id=contact_id, owner_id=owner_id,
    )
    return PageOut(items=[present(session, r) for r in page.items], next_cursor=page.next_cursor)


@router.get("/{opportunity_id}", operation_id="get_opportunity")
def get_opportunity(
    opportunity_id: IdPath, session: SessionDep, principal: PrincipalDep
) -> OpportunityPublic:
    row = opportunities.get_opportunity(session, principal.workspace_id, opportunity_id)
    return present(session, row)


@router.patch("/{opportunity_id}", operation_id="update_opportunity")
def update_opportunity(
    opportunity_id: IdPath, body: OpportunityIn, session: SessionDep, principal: PrincipalDep,
    cauce: CauceDep,
) -> OpportunityPublic:
    """Move stage, change status, value, owner, tags. Each change is one
    ``opportunity.changed`` event (see docs/crm.md for its keys)."""
    principal.require("agent")
    row = opportunities.update_opportunity(
        session, principal.workspace_id, opportunity_id, body, cauce.clock.now(), principal.actor
    )
    return present(session, row)


@router.delete("/{opportunity_id}", operation_id="delete_opportunity", status_code=204)
def delete_opportunity(
    opportunity_id: IdPath, session: SessionDep, principal: PrincipalDep
) -> Response:
    principal.require("editor")
    opportunities.delete_opportunity(session, principal.workspace_id, opportunity_id)
    return Response(status_code=204)


@router.get("/{opportunity_id}/history", operation_id="list_opportunity_history")
def list_opportunity_history(
    opportunity_id: IdPath, session: SessionDep, principal: PrincipalDep,
    limit: LimitQuery = DEFAULT_LIMIT, cursor: CursorQuery = None,
) -> PageOut[ChangePublic]:
    page = opportunities.history(
        session, principal.workspace_id, opportunity_id, limit=limit, cursor=cursor
    )
    return PageOut(
        items=[ChangePublic.model_validate(c, from_attributes=True) for c in page.items],
        next_cursor=page.next_cursor,
    )


