"""Segments: saved contact filters, their counts and members."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from cauce.api.deps import CauceDep, PrincipalDep, SessionDep
from cauce.api.errors import ERROR_RESPONSES
from cauce.api.pagination import DEFAULT_LIMIT, CursorQuery, IdPath, LimitQuery, PageOut
from cauce.api.routes.contacts import ContactPublic
from cauce.services import contacts, segments
from cauce.services.segments import FilterGroup
from cauce.store.models import Segment

router = APIRouter(prefix="/segments", tags=["segments"], responses=ERROR_RESPONSES)


class SegmentIn(BaseModel):
    name: str = Field(min_length=1, max_length=200, examples=["VIP activos"])
    description: str = Field(default="", max_length=2000)
    filter: FilterGroup


class SegmentUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    filter: FilterGroup | None = None


class SegmentPublic(BaseModel):
    id: int
    name: str
    description: str
    filter: dict[str, Any]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: Segment) -> SegmentPublic:
        return cls.model_validate(row, from_attributes=True)


class CountOut(BaseModel):
    count: int


def _raw(group: FilterGroup) -> dict[str, Any]:
    return group.model_dump(mode="json")


@router.post("", operation_id="create_segment", status_code=201)
def create_segment(
    body: SegmentIn, session: SessionDep, principal: PrincipalDep, cauce: CauceDep
) -> SegmentPublic:
    principal.require("editor")
    row = segments.create_segment(
        session, principal.workspace_id, body.name, _raw(body.filter), cauce.clock.now(),
        body.description,
    )
    return SegmentPublic.of(row)


@router.post("/preview", operation_id="count_segment_preview")
def count_segment_preview(
    body: FilterGroup, session: SessionDep, principal: PrincipalDep, cauce: CauceDep
) -> CountOut:
    """How many contacts match a filter, without saving it (the editor's live count)."""
    return CountOut(
        count=segments.count_filter(session, principal.workspace_id, body, cauce.clock.now())
    )


@router.get("", operation_id="list_segments")
def list_segments(
    session: SessionDep, principal: PrincipalDep, limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> PageOut[SegmentPublic]:
    page = segments.list_segments(session, principal.workspace_id, limit=limit, cursor=cursor)
    return PageOut(items=[SegmentPublic.of(r) for r in page.items], next_cursor=page.next_cursor)


@router.get("/{segment_id}", operation_id="get_segment")
def get_segment(segment_id: IdPath, session: SessionDep, principal: PrincipalDep) -> SegmentPublic:
    return SegmentPublic.of(segments.get_segment(session, principal.workspace_id, segment_id))


@router.patch("/{segment_id}", operation_id="update_segment")
def update_segment(
    segment_id: IdPath, body: SegmentUpdate, session: SessionDep, principal: PrincipalDep,
    cauce: CauceDep,
) -> SegmentPublic:
    principal.require("editor")
    row = segments.update_segment(
        session, principal.workspace_id, segment_id, cauce.clock.now(), name=body.name,
        raw_filter=_raw(body.filter) if body.filter else None, description=body.description,
    )
    return SegmentPublic.of(row)


@router.delete("/{segment_id}", operation_id="delete_segment", status_code=204)
def delete_segment(segment_id: IdPath, session: SessionDep, principal: PrincipalDep) -> Response:
    principal.require("editor")
    segments.delete_segment(session, principal.workspace_id, segment_id)
    return Response(status_code=204)


@router.get("/{segment_id}/count", operation_id="count_segment")
def count_segment(
    segment_id: IdPath, session: SessionDep, principal: PrincipalDep, cauce: CauceDep
) -> CountOut:
    return CountOut(
        count=segments.count_segment(session, principal.workspace_id, segment_id, cauce.clock.now())
    )


@router.get("/{segment_id}/contacts", operation_id="list_segment_contacts")
def list_segment_contacts(
    segment_id: IdPath, session: SessionDep, principal: PrincipalDep,
    limit: LimitQuery = DEFAULT_LIMIT, cursor: CursorQuery = None,
) -> PageOut[ContactPublic]:
    page = contacts.list_contacts(
        session, principal.workspace_id, limit=limit, cursor=cursor, segment_id=segment_id
    )
    return PageOut(items=[ContactPublic.of(r) for r in page.items], next_cursor=page.next_cursor)
