"""Opportunities: a contact's deal in a pipeline. Every change is recorded and handed to the
flows as ``opportunity.changed`` (keys documented in docs/crm.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from cauce.services import pipelines
from cauce.services.contacts import get_contact, normalize_tag
from cauce.services.errors import Invalid, NotFound
from cauce.services.events import emit
from cauce.services.pagination import Page, paginate
from cauce.store.models import (
    Membership,
    Opportunity,
    OpportunityChange,
    Pipeline,
    PipelineStage,
    User,
)

STATUSES = ("open", "won", "lost", "abandoned")
Status = Literal["open", "won", "lost", "abandoned"]


class OpportunityIn(BaseModel):
    """Create: ``contact_id`` and ``pipeline`` are required. Update: only what is sent."""

    model_config = ConfigDict(extra="forbid")

    contact_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    pipeline: str | int | None = Field(
        default=None, description="Pipeline id or name.", examples=["Ventas"]
    )
    stage: str | int | None = Field(
        default=None, description="Stage id or name; the first stage when omitted.",
        examples=["Volumetric Appenders"],
    )
    name: str | None = Field(default=None, max_length=200, examples=["Plan anual"])
    status: Status | None = None
    value: float | None = Field(default=None, ge=0, le=1e12)
    currency: str | None = Field(default=None, max_length=3, examples=["ARS"])
    owner_id: int | None = Field(
        default=None, ge=1, le=2**63 - 1, description="A user of this workspace."
    )
    tags: list[str] | None = None


def get_opportunity(session: Session, workspace_id: int, opportunity_id: int) -> Opportunity:
    row = session.get(Opportunity, opportunity_id)
    if row is None or row.workspace_id != workspace_id:
        raise NotFound(f"opportunity {opportunity_id} not found")
    return row


def _pipeline(session: Session, workspace_id: int, ref: str | int) -> Pipeline:
    if isinstance(ref, int):
        return pipelines.get_pipeline(session, workspace_id, ref)
    found = pipelines.find_pipeline(session, workspace_id, ref.strip())
    if found is None:
        raise Invalid(f"pipeline: no pipeline named '{ref}'", field="pipeline")
    return found


def _check_owner(session: Session, workspace_id: int, owner_id: int | None) -> None:
    if owner_id is None:
        return
    member = session.scalar(
        select(Membership.id).where(
            Membership.workspace_id == workspace_id, Membership.user_id == owner_id
        )
    )
    if member is None:
        raise Invalid(
            f"owner_id: user {owner_id} is not a member of this workspace", field="owner_id"
        )


def create_opportunity(
    session: Session, workspace_id: int, data: OpportunityIn, now: datetime, actor: str
) -> Opportunity:
    if data.contact_id is None:
        raise Invalid("contact_id: required", field="contact_id")
    if data.pipeline is None:
        raise Invalid("pipeline: required (id or name)", field="pipeline")
    contact = get_contact(session, workspace_id, data.contact_id)
    pipeline = _pipeline(session, workspace_id, data.pipeline)
    stage = pipelines.resolve_stage(session, pipeline, data.stage)
    _check_owner(session, workspace_id, data.owner_id)
    status = data.status or "open"
    row = Opportunity(
        workspace_id=workspace_id, contact_id=contact.id, pipeline_id=pipeline.id,
        stage_id=stage.id, name=(data.name or "").strip(), status=status,
        value=data.value or 0, currency=(data.currency or "").upper(), owner_id=data.owner_id,
        tags=list(dict.fromkeys(normalize_tag(t) for t in data.tags or [])),
        stage_entered_at=now, created_at=now, updated_at=now,
        closed_at=None if status == "open" else now,
    )
    session.add(row)
    session.flush()
    changes: dict[str, list[Any]] = {
        "pipeline": [None, pipeline.name], "stage": [None, stage.name], "status": [None, status],
        "value": [None, row.value],
    }
    _record(session, row, changes, now, actor, created=True)
    return row


def update_opportunity(
    session: Session, workspace_id: int, opportunity_id: int, data: OpportunityIn,
    now: datetime, actor: str,
) -> Opportunity:
    row = get_opportunity(session, workspace_id, opportunity_id)
    sent = data.model_fields_set
    changes: dict[str, list[Any]] = {}
    pipeline = session.get(Pipeline, row.pipeline_id)
    stage = session.get(PipelineStage, row.stage_id)
    assert pipeline is not None and stage is not None
    if data.contact_id is not None and data.contact_id != row.contact_id:
        raise Invalid("contact_id: an opportunity cannot change contact", field="contact_id")
    if data.pipeline is not None:
        new_pipeline = _pipeline(session, workspace_id, data.pipeline)
        if new_pipeline.id != pipeline.id:
            changes["pipeline"] = [pipeline.name, new_pipeline.name]
            pipeline = new_pipeline
            row.pipeline_id = pipeline.id
            if data.stage is None:  # a pipeline move without a stage lands on the first one
                new_stage = pipelines.resolve_stage(session, pipeline, None)
                changes["stage"] = [stage.name, new_stage.name]
                stage = new_stage
                row.stage_id = stage.id
                row.stage_entered_at = now
    if data.stage is not None:
        new_stage = pipelines.resolve_stage(session, pipeline, data.stage)
        if new_stage.id != row.stage_id:
            changes["stage"] = [stage.name, new_stage.name]
            row.stage_id = new_stage.id
            row.stage_entered_at = now
    if data.status is not None and data.status != row.status:
        changes["status"] = [row.status, data.status]
        row.status = data.status
        row.closed_at = None if data.status == "open" else now
    if data.value is not None and data.value != row.value:
        changes["value"] = [row.value, data.value]
        row.value = data.value
    if data.currency is not None and data.currency.upper() != row.currency:
        changes["currency"] = [row.currency, data.currency.upper()]
        row.currency = data.currency.upper()
    if "owner_id" in sent and data.owner_id != row.owner_id:
        _check_owner(session, workspace_id, data.owner_id)
        changes["owner"] = [row.owner_id, data.owner_id]
        row.owner_id = data.owner_id
    if data.name is not None and data.name.strip() != row.name:
        changes["name"] = [row.name, data.name.strip()]
        row.name = data.name.strip()
    if data.tags is not None:
        tags = list(dict.fromkeys(normalize_tag(t) for t in data.tags))
        if tags != row.tags:
            changes["tags"] = [row.tags, tags]
            row.tags = tags
    if changes:
        row.updated_at = now
        session.flush()
        _record(session, row, changes, now, actor, created=False)
    return row


def delete_opportunity(session: Session, workspace_id: int, opportunity_id: int) -> None:
    session.delete(get_opportunity(session, workspace_id, opportunity_id))


def _record(
    session: Session, row: Opportunity, changes: dict[str, list[Any]], now: datetime, actor: str,
    *, created: bool,
) -> None:
    change = OpportunityChange(
        workspace_id=row.workspace_id, opportunity_id=row.id, at=now, actor=actor,
        changes=changes,
    )
    session.add(change)
    session.flush()
    data = event_data(session, row, changes, created=created)
    emit(
        session, row.workspace_id, row.contact_id, "opportunity.changed", data,
        f"opportunity:{row.id}:change:{change.id}", now,
    )
    from cauce.services import webhook_subscriptions

    webhook_subscriptions.publish(
        session, row.workspace_id, "opportunity.changed", data, now,
        contact_id=row.contact_id, event_id=f"opportunity-{row.id}-change-{change.id}",
    )


def event_data(
    session: Session, row: Opportunity, changes: dict[str, list[Any]], *, created: bool
) -> dict[str, Any]:
    """The ``opportunity.changed`` payload (the contract in docs/crm.md)."""
    pipeline = session.get(Pipeline, row.pipeline_id)
    stage = session.get(PipelineStage, row.stage_id)
    assert pipeline is not None and stage is not None
    owner = session.get(User, row.owner_id) if row.owner_id else None
    stage_change = changes.get("stage")
    status_change = changes.get("status")
    return {
        "opportunity_id": row.id,
        "change": "created" if created else "updated",
        "changed": sorted(changes),
        "pipeline": pipeline.name,
        "pipeline_id": pipeline.id,
        "stage": stage.name,
        "from_stage": stage_change[0] if stage_change else (None if created else stage.name),
        "moved_to_stage": stage.name if stage_change else None,
        "status": row.status,
        "from_status": status_change[0] if status_change else (None if created else row.status),
        "moved_to_status": row.status if status_change else None,
        "value": float(row.value),
        "currency": row.currency,
        "owner": owner.email if owner else None,
        "owner_id": row.owner_id,
        "tags": list(row.tags),
        "name": row.name,
        "contact_id": row.contact_id,
    }


def list_opportunities(
    session: Session, workspace_id: int, *, limit: int | None, cursor: str | None,
    pipeline_id: int | None = None, stage_id: int | None = None, status: str | None = None,
    contact_id: int | None = None, owner_id: int | None = None,
) -> Page[Opportunity]:
    stmt = select(Opportunity).where(Opportunity.workspace_id == workspace_id)
    if pipeline_id is not None:
        stmt = stmt.where(Opportunity.pipeline_id == pipeline_id)
    if stage_id is not None:
        stmt = stmt.where(Opportunity.stage_id == stage_id)
    if status is not None:
        if status not in STATUSES:
            raise Invalid(f"status: one of {', '.join(STATUSES)}", field="status")
        stmt = stmt.where(Opportunity.status == status)
    if contact_id is not None:
        stmt = stmt.where(Opportunity.contact_id == contact_id)
    if owner_id is not None:
        stmt = stmt.where(Opportunity.owner_id == owner_id)
    return paginate(session, stmt, Opportunity.id, limit, cursor)


def history(
    session: Session, workspace_id: int, opportunity_id: int, *, limit: int | None,
    cursor: str | None,
) -> Page[OpportunityChange]:
    get_opportunity(session, workspace_id, opportunity_id)
    stmt = select(OpportunityChange).where(OpportunityChange.opportunity_id == opportunity_id)
    return paginate(session, stmt, OpportunityChange.id, limit, cursor)


def names_of(session: Session, row: Opportunity) -> tuple[str, str]:
    """(pipeline name, stage name) for presenting a row."""
    pipeline = session.get(Pipeline, row.pipeline_id)
    stage = session.get(PipelineStage, row.stage_id)
    return (pipeline.name if pipeline else "", stage.name if stage else "")
