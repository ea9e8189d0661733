"""The events API: business events from shops, CRMs and payment systems, and their sources."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from pydantic import BaseModel, Field

from cauce.api.deps import CauceDep, PrincipalDep, SessionDep
from cauce.api.errors import ERROR_RESPONSES
from cauce.api.pagination import DEFAULT_LIMIT, CursorQuery, IdPath, LimitQuery, PageOut
from cauce.services import events
from cauce.services.events import EventSubmit
from cauce.store.models import EventSource

router = APIRouter(tags=["events"], responses=ERROR_RESPONSES)


async def raw_body(request: Request) -> bytes:
    """The exact bytes received (the HMAC is over them, not over re-serialised JSON)."""
    return await request.body()


class EventAcceptedOut(BaseModel):
    accepted: bool = True
    duplicate: bool = Field(description="True when this event id was received before.")
    contact_id: IdPath
    contact_created: bool


class EventReceiptPublic(BaseModel):
    id: int
    source: str
    event_id: str
    name: str
    contact_id: IdPath | None
    received_at: datetime


class SourceIn(BaseModel):
    name: str = Field(min_length=1, max_length=100, examples=["shop"])
    signed: bool = Field(
        default=True, description="Generate a secret; events from this source must then be "
        "signed with `X-Cauce-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>`."
    )


class SourcePublic(BaseModel):
    id: int
    name: str
    signed: bool
    created_at: datetime

    @classmethod
    def of(cls, row: EventSource) -> SourcePublic:
        return cls(id=row.id, name=row.name, signed=row.secret_encrypted is not None,
                   created_at=row.created_at)


class SourceCreated(SourcePublic):
    secret: str | None = Field(description="The signing secret. Shown only in this answer.")


@router.post("/events", operation_id="submit_event", status_code=202)
def submit_event(
    body: EventSubmit,
    session: SessionDep,
    principal: PrincipalDep,
    cauce: CauceDep,
    raw: Annotated[bytes, Depends(raw_body)],
    signature: Annotated[
        str | None,
        Header(alias="X-Cauce-Signature", description="sha256=<hex> when the source is signed"),
    ] = None,
) -> EventAcceptedOut:
    """Deliver a business event for a contact identified by phone, email or external id
    (created when new). Flows with an event trigger of this name start or resume. Sending
    the same ``event_id`` from the same ``source`` again changes nothing (``duplicate``)."""
    principal.require("editor")
    events.verify_signature(
        session, cauce.secrets, principal.workspace_id, body.source, raw, signature
    )
    result = events.submit_event(session, principal.workspace_id, body, cauce.clock.now())
    return EventAcceptedOut(
        duplicate=result.duplicate, contact_id=result.contact_id,
        contact_created=result.contact_created,
    )


@router.get("/events", operation_id="list_events")
def list_events(
    session: SessionDep, principal: PrincipalDep, limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None, name: Annotated[str | None, Query(max_length=100)] = None,
) -> PageOut[EventReceiptPublic]:
    """Events received, oldest first."""
    page = events.list_receipts(
        session, principal.workspace_id, limit=limit, cursor=cursor, name=name
    )
    return PageOut(
        items=[EventReceiptPublic.model_validate(r, from_attributes=True) for r in page.items],
        next_cursor=page.next_cursor,
    )


@router.post("/event-sources", operation_id="create_event_source", status_code=201)
def create_event_source(
    body: SourceIn, session: SessionDep, principal: PrincipalDep, cauce: CauceDep
) -> SourceCreated:
    principal.require("admin")
    created = events.create_source(
        session, cauce.secrets, principal, body.name, cauce.clock.now(), signed=body.signed
    )
    base = SourcePublic.of(created.source)
    return SourceCreated(**base.model_dump(), secret=created.secret)


@router.get("/event-sources", operation_id="list_event_sources")
def list_event_sources(
    session: SessionDep, principal: PrincipalDep, limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> PageOut[SourcePublic]:
    page = events.list_sources(session, principal.workspace_id, limit=limit, cursor=cursor)
    return PageOut(items=[SourcePublic.of(r) for r in page.items], next_cursor=page.next_cursor)


@router.delete("/event-sources/{source_id}", operation_id="delete_event_source", status_code=204)
def delete_event_source(
    source_id: IdPath, session: SessionDep, principal: PrincipalDep, cauce: CauceDep
) -> Response:
    principal.require("admin")
    events.delete_source(session, principal, source_id, cauce.clock.now())
    return Response(status_code=204)
