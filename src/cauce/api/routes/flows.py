"""Flows: drafts, validation, publishing immutable versions, rollback, import/export."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, Field

from cauce.api.deps import CauceDep, PrincipalDep, SessionDep
from cauce.api.errors import ERROR_RESPONSES
from cauce.api.pagination import IdPath
from cauce.flows.common import Problem
from cauce.services import flows
from cauce.store.models import Flow, FlowVersion

router = APIRouter(prefix="/flows", tags=["flows"], responses=ERROR_RESPONSES)


class FlowCreate(BaseModel):
    document: dict[str, Any] = Field(
        description="The flow document (see `cauce flows schema`); a draft may be incomplete.",
        examples=[{"format": 1, "metadata": {"name": "Bienvenida"}, "nodes": []}])


class FlowDraft(BaseModel):
    document: dict[str, Any]


class FlowUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    enabled: bool | None = None


class FlowImport(BaseModel):
    content: str = Field(description="The document as JSON or YAML text.")
    format: Literal["json", "yaml"] = "json"


class FlowPublish(BaseModel):
    note: str = Field(default="", max_length=500)


class FlowRollback(BaseModel):
    version: int = Field(ge=1)


class FlowSummary(BaseModel):
    id: int
    name: str
    description: str
    published_version: int | None
    enabled: bool
    created_at: datetime
    updated_at: datetime


class FlowListItem(FlowSummary):
    template_id: str | None = Field(description="The playbook template it was created from")
    runs_total: int = Field(description="Runs ever started, every version")
    runs_active: int = Field(description="Runs waiting now (a reply, a timer, an event)")
    conversion_rate: float | None = Field(
        description="Runs that reached the goal / runs (0–1); null when the published "
                    "version has no goal or nothing ran yet")


class FlowPublic(FlowSummary):
    draft: dict[str, Any]


class FlowVersionPublic(BaseModel):
    number: int
    published_at: datetime
    published_by: str
    note: str


class FlowVersionDocument(FlowVersionPublic):
    document: dict[str, Any]


class ValidationOut(BaseModel):
    problems: list[Problem]
    errors: int
    warnings: int


def _summary(row: Flow) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "description": row.description,
            "published_version": row.published_version, "enabled": row.enabled,
            "created_at": row.created_at, "updated_at": row.updated_at}


def present(row: Flow) -> FlowPublic:
    return FlowPublic(**_summary(row), draft=row.draft)


def present_version(row: FlowVersion) -> FlowVersionPublic:
    return FlowVersionPublic(number=row.number, published_at=row.published_at,
                             published_by=row.published_by, note=row.note)


@router.get("", operation_id="list_flows")
def list_flows(session: SessionDep, principal: PrincipalDep) -> list[FlowListItem]:
    rows = flows.list_flows(session, principal.workspace_id)
    stats = flows.flow_stats(session, principal.workspace_id, rows)
    return [FlowListItem(**_summary(r), template_id=r.template_slug,
                         runs_total=stats[r.id].runs_total, runs_active=stats[r.id].runs_active,
                         conversion_rate=stats[r.id].conversion_rate) for r in rows]


@router.post("", operation_id="create_flow", status_code=201)
def create_flow(body: FlowCreate, session: SessionDep, principal: PrincipalDep,
                cauce: CauceDep) -> FlowPublic:
    principal.require("editor")
    return present(flows.create_flow(session, principal, body.document, cauce.clock.now()))


@router.post("/import", operation_id="import_flow", status_code=201)
def import_flow(body: FlowImport, session: SessionDep, principal: PrincipalDep,
                cauce: CauceDep) -> FlowPublic:
    principal.require("editor")
    row = flows.import_flow(session, principal, body.content, cauce.clock.now(),
                            filename=f"import.{body.format}")
    return present(row)


@router.get("/{flow_id}", operation_id="get_flow")
def get_flow(flow_id: IdPath, session: SessionDep, principal: PrincipalDep) -> FlowPublic:
    return present(flows.get_flow(session, principal.workspace_id, flow_id))


@router.patch("/{flow_id}", operation_id="update_flow")
def update_flow(flow_id: IdPath, body: FlowUpdate, session: SessionDep, principal: PrincipalDep,
                cauce: CauceDep) -> FlowPublic:
    principal.require("editor")
    return present(flows.update_flow(session, principal, flow_id, cauce.clock.now(),
                                     name=body.name, description=body.description,
                                     enabled=body.enabled))


@router.put("/{flow_id}/draft", operation_id="update_flow_draft")
def update_draft(flow_id: IdPath, body: FlowDraft, session: SessionDep, principal: PrincipalDep,
                 cauce: CauceDep) -> FlowPublic:
    principal.require("editor")
    return present(flows.update_draft(session, principal, flow_id, body.document,
                                      cauce.clock.now()))


@router.delete("/{flow_id}", operation_id="archive_flow", status_code=204)
def archive_flow(flow_id: IdPath, session: SessionDep, principal: PrincipalDep,
                 cauce: CauceDep) -> Response:
    principal.require("editor")
    flows.archive_flow(session, principal, flow_id, cauce.clock.now())
    return Response(status_code=204)


@router.post("/{flow_id}/validate", operation_id="validate_flow")
def validate_flow(flow_id: IdPath, session: SessionDep, principal: PrincipalDep) -> ValidationOut:
    problems = flows.validate_flow(session, principal.workspace_id, flow_id)
    errors = sum(p.severity == "error" for p in problems)
    return ValidationOut(problems=problems, errors=errors, warnings=len(problems) - errors)


@router.post("/{flow_id}/publish", operation_id="publish_flow", status_code=201,
             response_model=FlowVersionPublic,
             responses={422: {"description": "The draft has errors; `error.problems` lists "
                                             "every problem"}})
def publish_flow(flow_id: IdPath, session: SessionDep, principal: PrincipalDep, cauce: CauceDep,
                 body: FlowPublish | None = None) -> Any:
    principal.require("editor")
    try:
        version = flows.publish(session, principal, flow_id, cauce.clock.now(),
                                note=body.note if body else "")
    except flows.FlowInvalid as exc:
        # The usual error body plus every problem, so the editor can mark each node.
        return JSONResponse(status_code=422, content={"error": {
            "code": exc.code, "message": exc.message, "field": exc.field,
            "problems": [p.model_dump() for p in exc.problems]}})
    return present_version(version)


@router.get("/{flow_id}/versions", operation_id="list_flow_versions")
def list_versions(flow_id: IdPath, session: SessionDep,
                  principal: PrincipalDep) -> list[FlowVersionPublic]:
    return [present_version(v)
            for v in flows.list_versions(session, principal.workspace_id, flow_id)]


@router.get("/{flow_id}/versions/{number}", operation_id="get_flow_version")
def get_version(flow_id: IdPath, number: IdPath, session: SessionDep,
                principal: PrincipalDep) -> FlowVersionDocument:
    row = flows.get_version(session, principal.workspace_id, flow_id, number)
    return FlowVersionDocument(**present_version(row).model_dump(), document=row.document)


@router.post("/{flow_id}/rollback", operation_id="rollback_flow", status_code=201)
def rollback_flow(flow_id: IdPath, body: FlowRollback, session: SessionDep,
                  principal: PrincipalDep, cauce: CauceDep) -> FlowVersionPublic:
    principal.require("editor")
    return present_version(flows.rollback(session, principal, flow_id, body.version,
                                          cauce.clock.now()))


@router.get("/{flow_id}/export", operation_id="export_flow",
            response_class=PlainTextResponse)
def export_flow(flow_id: IdPath, session: SessionDep, principal: PrincipalDep,
                format: Literal["json", "yaml"] = "json",
                version: int | None = None) -> PlainTextResponse:
    text = flows.export_flow(session, principal.workspace_id, flow_id, version=version,
                             fmt=format)
    media = "application/json" if format == "json" else "application/yaml"
    return PlainTextResponse(text, media_type=media)
