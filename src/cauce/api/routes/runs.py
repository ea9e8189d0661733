"""Runs and their execution history; dead letters of the outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from cauce.api.deps import PrincipalDep, SessionDep
from cauce.api.errors import ERROR_RESPONSES
from cauce.api.pagination import IdPath
from cauce.runtime.state import full_state
from cauce.services import runs as service
from cauce.store.models.runtime import OutboxItem, RuntimeRun, StepLogEntry

router = APIRouter(tags=["runs"], responses=ERROR_RESPONSES)


class RunPublic(BaseModel):
    id: str
    flow_id: int
    flow_version: int
    contact_id: int
    status: str
    node_id: str | None
    waiting_for: str | None
    due_at: datetime | None
    end_reason: str | None
    started_at: datetime
    updated_at: datetime


class StepPublic(BaseModel):
    id: int
    at: datetime
    input_kind: str
    input: dict[str, Any]
    node_id: str | None
    status: str
    output: list[Any]
    error: str | None
    duration_us: int


class RunDetailPublic(RunPublic):
    state: dict[str, Any]
    steps: list[StepPublic]


class RunList(BaseModel):
    items: list[RunPublic]
    next_cursor: str | None


class DeadLetterPublic(BaseModel):
    id: int
    key: str
    kind: str
    channel: str
    contact_id: int
    run_id: str | None
    attempts: int
    status: str
    reason: str | None
    code: str | None
    payload: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class DeadLetterList(BaseModel):
    items: list[DeadLetterPublic]
    next_cursor: str | None


def _run(run: RuntimeRun) -> dict[str, Any]:
    wait = run.state.get("wait") or {}
    return {
        "id": run.id, "flow_id": run.flow_id, "flow_version": run.flow_version,
        "contact_id": run.contact_id, "status": run.status, "node_id": run.state.get("node_id"),
        "waiting_for": wait.get("kind"), "due_at": wait.get("due_at"),
        "end_reason": run.state.get("end_reason"), "started_at": run.started_at,
        "updated_at": run.updated_at,
    }


def _step(e: StepLogEntry) -> StepPublic:
    return StepPublic(id=e.id, at=e.at, input_kind=e.input_kind, input=e.input,
                      node_id=e.node_id, status=e.status, output=e.output, error=e.error,
                      duration_us=e.duration_us)


def _dead(item: OutboxItem) -> DeadLetterPublic:
    return DeadLetterPublic(
        id=item.id, key=item.key, kind=item.kind, channel=item.channel,
        contact_id=item.contact_id, run_id=item.run_id, attempts=item.attempts,
        status=item.status, reason=item.last_error, code=item.last_error_code,
        payload=item.payload, created_at=item.created_at, updated_at=item.updated_at,
    )


@router.get("/runs", operation_id="list_runs")
def list_runs(
    session: SessionDep, principal: PrincipalDep,
    flow_id: int | None = None, contact_id: int | None = None,
    status: str | None = Query(None, description="waiting, completed, failed or interrupted"),
    limit: int | None = Query(None, description="page size (default 50, at most 500)"),
    cursor: str | None = None,
) -> RunList:
    page = service.list_runs(session, principal.workspace_id, flow_id=flow_id,
                             contact_id=contact_id, status=status, limit=limit, cursor=cursor)
    return RunList(items=[RunPublic(**_run(r)) for r in page.items],
                   next_cursor=page.next_cursor)


@router.get("/runs/{run_id}", operation_id="get_run")
def get_run(run_id: str, session: SessionDep, principal: PrincipalDep) -> RunDetailPublic:
    detail = service.get_run(session, principal.workspace_id, run_id)
    return RunDetailPublic(**_run(detail.run), state=full_state(detail.run),
                           steps=[_step(e) for e in detail.steps])


@router.get("/dead-letters", operation_id="list_dead_letters")
def list_dead_letters(
    session: SessionDep, principal: PrincipalDep, limit: int | None = None,
    cursor: str | None = None,
) -> DeadLetterList:
    page = service.list_dead_letters(session, principal.workspace_id, limit=limit,
                                     cursor=cursor)
    return DeadLetterList(items=[_dead(i) for i in page.items], next_cursor=page.next_cursor)


@router.post("/dead-letters/{item_id}/retry", operation_id="retry_dead_letter")
def retry_dead_letter(
    item_id: IdPath, session: SessionDep, principal: PrincipalDep
) -> DeadLetterPublic:
    """Queue a dead letter for delivery again; its attempts start over."""
    principal.require("editor")
    return _dead(service.retry_dead_letter(session, principal.workspace_id, item_id))
