"""Pipelines and their ordered stages."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from cauce.services.errors import Conflict, Invalid, NotFound
from cauce.services.pagination import Page, paginate
from cauce.store.models import Opportunity, Pipeline, PipelineStage

MAX_STAGES = 50


def _clean_stages(stages: list[str]) -> list[str]:
    names = [s.strip() for s in stages]
    if not names or any(not n for n in names):
        raise Invalid("stages: at least one stage, none empty", field="stages")
    if len(names) > MAX_STAGES:
        raise Invalid(f"stages: at most {MAX_STAGES}", field="stages")
    if len(set(names)) != len(names):
        raise Invalid("stages: names must be unique within a pipeline", field="stages")
    if any(len(n) > 200 for n in names):
        raise Invalid("stages: at most 200 characters per name", field="stages")
    return names


def create_pipeline(
    session: Session, workspace_id: int, name: str, stages: list[str], now: datetime
) -> Pipeline:
    name = name.strip()
    if not name:
        raise Invalid("name: required", field="name")
    names = _clean_stages(stages)
    if find_pipeline(session, workspace_id, name) is not None:
        raise Conflict(f"a pipeline named '{name}' already exists", field="name")
    pipeline = Pipeline(workspace_id=workspace_id, name=name, created_at=now, updated_at=now)
    session.add(pipeline)
    session.flush()
    for position, stage in enumerate(names):
        session.add(
            PipelineStage(
                workspace_id=workspace_id, pipeline_id=pipeline.id, name=stage, position=position
            )
        )
    session.flush()
    return pipeline


def find_pipeline(session: Session, workspace_id: int, name: str) -> Pipeline | None:
    return session.scalar(
        select(Pipeline).where(Pipeline.workspace_id == workspace_id, Pipeline.name == name)
    )


def get_pipeline(session: Session, workspace_id: int, pipeline_id: int) -> Pipeline:
    row = session.get(Pipeline, pipeline_id)
    if row is None or row.workspace_id != workspace_id:
        raise NotFound(f"pipeline {pipeline_id} not found")
    return row


def stages_of(session: Session, pipeline_id: int) -> list[PipelineStage]:
    return list(
        session.scalars(
            select(PipelineStage)
            .where(PipelineStage.pipeline_id == pipeline_id)
            .order_by(PipelineStage.position)
        )
    )


def list_pipelines(
    session: Session, workspace_id: int, *, limit: int | None, cursor: str | None
) -> Page[Pipeline]:
    stmt = select(Pipeline).where(Pipeline.workspace_id == workspace_id)
    return paginate(session, stmt, Pipeline.id, limit, cursor)


def update_pipeline(
    session: Session, workspace_id: int, pipeline_id: int, now: datetime, *,
    name: str | None = None, stages: list[str] | None = None,
) -> Pipeline:
    """Rename and/or set the stage list. Stages keep their id when their name is kept (so
    opportunities stay where they are); a stage that still holds opportunities cannot go."""
    pipeline = get_pipeline(session, workspace_id, pipeline_id)
    if name is not None:
        name = name.strip()
        if not name:
            raise Invalid("name: required", field="name")
        other = find_pipeline(session, workspace_id, name)
        if other is not None and other.id != pipeline.id:
            raise Conflict(f"a pipeline named '{name}' already exists", field="name")
        pipeline.name = name
    if stages is not None:
        names = _clean_stages(stages)
        current = {s.name: s for s in stages_of(session, pipeline.id)}
        for gone in set(current) - set(names):
            used = session.scalar(
                select(func.count()).select_from(Opportunity).where(
                    Opportunity.stage_id == current[gone].id
                )
            )
            if used:
                raise Conflict(
                    f"stages: stage '{gone}' still has {used} opportunities; move them first",
                    field="stages",
                )
            session.delete(current[gone])
        session.flush()
        # Two passes: positions are not unique, but keep the final order deterministic.
        for position, stage_name in enumerate(names):
            if stage_name in current:
                current[stage_name].position = position
            else:
                session.add(
                    PipelineStage(
                        workspace_id=workspace_id, pipeline_id=pipeline.id, name=stage_name,
                        position=position,
                    )
                )
        session.flush()
    pipeline.updated_at = now
    return pipeline


def delete_pipeline(session: Session, workspace_id: int, pipeline_id: int) -> None:
    pipeline = get_pipeline(session, workspace_id, pipeline_id)
    used = session.scalar(
        select(func.count()).select_from(Opportunity).where(Opportunity.pipeline_id == pipeline.id)
    )
    if used:
        raise Conflict(
            f"pipeline '{pipeline.name}' has {used} opportunities; delete or move them first"
        )
    session.execute(delete(PipelineStage).where(PipelineStage.pipeline_id == pipeline.id))
    session.delete(pipeline)


def resolve_stage(
    session: Session, pipeline: Pipeline, stage: str | int | None
) -> PipelineStage:
    """A stage of ``pipeline`` by id or name; ``None`` is the first stage."""
    stages = stages_of(session, pipeline.id)
    if stage is None:
        return stages[0]
    for s in stages:
        if (isinstance(stage, int) and s.id == stage) or s.name == stage:
            return s
    names = ", ".join(s.name for s in stages)
    raise Invalid(
        f"stage: '{stage}' is not a stage of pipeline '{pipeline.name}' ({names})", field="stage"
    )
