"""Pipelines and their ordered stages."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from cauce.api.deps import CauceDep, PrincipalDep, SessionDep
from cauce.api.errors import ERROR_RESPONSES
from cauce.api.pagination import DEFAULT_LIMIT, CursorQuery, IdPath, LimitQuery, PageOut
from cauce.services import pipelines
from cauce.store.models import Pipeline

router = APIRouter(prefix="/pipelines", tags=["pipelines"], responses=ERROR_RESPONSES)


class PipelineIn(BaseModel):
    name: str = Field(min_length=1, max_length=200, examples=["Ventas"])
    stages: list[str] = Field(
        min_length=1, max_length=pipelines.MAX_STAGES,
        examples=[["Nuevo", "Volumetric Appenders", "Propuesta", "Cierre"]],
    )


class PipelineUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    stages: list[str] | None = Field(
        default=None, min_length=1, max_length=pipelines.MAX_STAGES,
        description="The full ordered list; kept names keep their id and opportunities.",
    )


class StagePublic(BaseModel):
    id: int
    name: str
    position: int


class PipelinePublic(BaseModel):
    id: int
    name: str
    stages: list[StagePublic]
    created_at: datetime
    updated_at: datetime


def present(session: Session, row: Pipeline) -> PipelinePublic:
    return PipelinePublic(
        id=row.id, name=row.name, created_at=row.created_at, updated_at=row.updated_at,
        stages=[
            StagePublic(id=s.id, name=s.name, position=s.position)
            for s in pipelines.stages_of(session, row.id)
        ],
    )


@router.post("", operation_id="create_pipeline", status_code=201)
def create_pipeline(
    body: PipelineIn, session: SessionDep, principal: PrincipalDep, cauce: CauceDep
) -> PipelinePublic:
    principal.require("editor")
    row = pipelines.create_pipeline(
        session, principal.workspace_id, body.name, body.stages, cauce.clock.now()
    )
    return present(session, row)


@router.get("", operation_id="list_pipelines")
def list_pipelines(
    session: SessionDep, principal: PrincipalDep, limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> PageOut[PipelinePublic]:
    page = pipelines.list_pipelines(session, principal.workspace_id, limit=limit, cursor=cursor)
    return PageOut(
        items=[present(session, r) for r in page.items], next_cursor=page.next_cursor
    )


@router.get("/{pipeline_id}", operation_id="get_pipeline")
def get_pipeline(
    pipeline_id: IdPath, session: SessionDep, principal: PrincipalDep
) -> PipelinePublic:
    return present(session, pipelines.get_pipeline(session, principal.workspace_id, pipeline_id))


@router.patch("/{pipeline_id}", operation_id="update_pipeline")
def update_pipeline(
    pipeline_id: IdPath, body: PipelineUpdate, session: SessionDep, principal: PrincipalDep,
    cauce: CauceDep,
) -> PipelinePublic:
    principal.require("editor")
    row = pipelines.update_pipeline(
        session, principal.workspace_id, pipeline_id, cauce.clock.now(), name=body.name,
        stages=body.stages,
    )
    return present(session, row)


@router.delete("/{pipeline_id}", operation_id="delete_pipeline", status_code=204)
def delete_pipeline(pipeline_id: IdPath, session: SessionDep, principal: PrincipalDep) -> Response:
    principal.require("editor")
    pipelines.delete_pipeline(session, principal.workspace_id, pipeline_id)
    return Response(status_code=204)
