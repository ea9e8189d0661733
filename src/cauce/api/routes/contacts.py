"""Contacts, custom field definitions, CSV import and export."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, File, Form, Query, Response, UploadFile
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from cauce.api.deps import CauceDep, PrincipalDep, SessionDep
from cauce.api.errors import ERROR_RESPONSES, ErrorResponse
from cauce.api.pagination import DEFAULT_LIMIT, CursorQuery, IdPath, IdQuery, LimitQuery, PageOut
from cauce.services import contacts, imports
from cauce.services.contacts import ContactIn
from cauce.services.errors import Invalid
from cauce.store.models import Contact, ContactField, ImportJob

router = APIRouter(tags=["contacts"], responses=ERROR_RESPONSES)


class ContactPublic(BaseModel):
    id: int
    phone: str | None
    email: str | None
    external_id: str | None
    name: str
    first_name: str
    last_name: str
    language: str | None
    country: str | None
    timezone: str | None
    tags: list[str]
    fields: dict[str, Any]
    lead_score: int
    consent: dict[str, Any]
    opted_out_marketing: bool
    opted_out_marketing_at: datetime | None
    attribution: dict[str, Any]
    source: str
    last_inbound_at: datetime | None
    last_outbound_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: Contact) -> ContactPublic:
        return cls.model_validate(row, from_attributes=True)


class MergeIn(BaseModel):
    merge_id: int = Field(
        ge=1, le=2**63 - 1, description="The duplicate folded into this contact."
    )


class TagsIn(BaseModel):
    tags: list[str] = Field(min_length=1, max_length=100, examples=[["vip", "cliente"]])


class UpsertOut(BaseModel):
    created: bool
    contact: ContactPublic


class FieldIn(BaseModel):
    key: str = Field(min_length=1, max_length=64, examples=["plan"])
    type: str = Field(examples=["choice"], description="text, number, date, boolean or choice")
    label: str = Field(default="", max_length=200, examples=["Plan"])
    choices: list[str] = Field(default_factory=list, examples=[["free", "pro"]])


class FieldPublic(BaseModel):
    id: int
    key: str
    label: str
    type: str
    choices: list[str]
    created_at: datetime

    @classmethod
    def of(cls, row: ContactField) -> FieldPublic:
        return cls.model_validate(row, from_attributes=True)


class ImportPublic(BaseModel):
    id: int
    filename: str
    mapping: dict[str, Any]
    status: str
    total_rows: int
    processed_rows: int
    created_count: int
    updated_count: int
    error_count: int
    errors: list[dict[str, Any]] = Field(
        description="One entry per bad row: {row, reason, field} (the first 1,000)."
    )
    message: str
    created_at: datetime
    finished_at: datetime | None

    @classmethod
    def of(cls, row: ImportJob) -> ImportPublic:
        return cls.model_validate(row, from_attributes=True)


# ---- custom fields -------------------------------------------------------------------------


@router.post("/contact-fields", operation_id="create_contact_field", status_code=201)
def create_contact_field(
    body: FieldIn, session: SessionDep, principal: PrincipalDep, cauce: CauceDep
) -> FieldPublic:
    """Define a typed custom field (text, number, date, boolean, choice)."""
    principal.require("editor")
    row = contacts.create_field(
        session, principal.workspace_id, body.key, body.type, cauce.clock.now(),
        label=body.label, choices=body.choices,
    )
    return FieldPublic.of(row)


@router.get("/contact-fields", operation_id="list_contact_fields")
def list_contact_fields(
    session: SessionDep, principal: PrincipalDep, limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> PageOut[FieldPublic]:
    from sqlalchemy import select

    from cauce.services.pagination import paginate

    page = paginate(
        session, select(ContactField).where(ContactField.workspace_id == principal.workspace_id),
        ContactField.id, limit, cursor,
    )
    return PageOut(items=[FieldPublic.of(r) for r in page.items], next_cursor=page.next_cursor)


@router.delete("/contact-fields/{field_id}", operation_id="delete_contact_field", status_code=204)
def delete_contact_field(
    field_id: IdPath, session: SessionDep, principal: PrincipalDep
) -> Response:
    """Delete the definition (values already stored on contacts are kept)."""
    principal.require("editor")
    contacts.delete_field(session, principal.workspace_id, field_id)
    return Response(status_code=204)


# ---- import / export (before /contacts/{contact_id} so the static paths win) ---------------


@router.post(
    "/contacts/imports", operation_id="import_contacts", status_code=202,
    responses={413: {"model": ErrorResponse, "description": "The file is too large"}},
)
def import_contacts(
    session: SessionDep,
    principal: PrincipalDep,
    cauce: CauceDep,
    background: BackgroundTasks,
    file: Annotated[UploadFile, File(description="CSV, UTF-8, first row is the header.")],
    mapping: Annotated[
        str,
        Form(
            description='JSON object: CSV column -> contact attribute, e.g. {"Teléfono": '
            '"phone", "Correo": "email", "Nombre": "name", "Plan": "fields.plan", '
            '"Etiquetas": "tags"}. Columns left out are ignored.',
        ),
    ] = "{}",
) -> ImportPublic:
    """Start an import; poll GET /contacts/imports/{import_id} for progress and bad rows.

    The file is stored with the job; this process imports it in the background, and any
    worker (``cauce worker``, the embedded runtime) resumes a job left unfinished."""
    principal.require("editor")
    try:
        parsed = json.loads(mapping or "{}")
    except json.JSONDecodeError:
        raise Invalid("mapping: not valid JSON", field="mapping") from None
    if not isinstance(parsed, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in parsed.items()
    ):
        raise Invalid("mapping: a JSON object of column -> attribute", field="mapping")
    job = imports.stage_import(
        session, principal.workspace_id, file.filename or "upload.csv", file.file, parsed,
        cauce.clock.now(),
    )
    # SessionDep commits before the response is sent, so before the task starts.
    background.add_task(imports.run_import, cauce, principal.workspace_id, job.id, follow=False)
    return ImportPublic.of(job)


@router.get("/contacts/imports", operation_id="list_contact_imports")
def list_contact_imports(
    session: SessionDep, principal: PrincipalDep, limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
    active: Annotated[bool | None, Query(
        description="true: only imports still running (pending or running), so a screen "
                    "opened later can follow them; false: only finished ones")] = None,
) -> PageOut[ImportPublic]:
    page = imports.list_jobs(session, principal.workspace_id, limit=limit, cursor=cursor,
                             active=active)
    return PageOut(items=[ImportPublic.of(r) for r in page.items], next_cursor=page.next_cursor)


@router.get("/contacts/imports/{import_id}", operation_id="get_contact_import")
def get_contact_import(
    import_id: IdPath, session: SessionDep, principal: PrincipalDep
) -> ImportPublic:
    return ImportPublic.of(imports.get_job(session, principal.workspace_id, import_id))


@router.get(
    "/contacts/export", operation_id="export_contacts",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "CSV of the contacts"}},
)
def export_contacts(
    session: SessionDep, principal: PrincipalDep, cauce: CauceDep,
    segment_id: IdQuery = None,
    tag: Annotated[str | None, Query(max_length=64)] = None,
) -> StreamingResponse:
    """All contacts (or a segment's / a tag's) as CSV, streamed."""
    principal.require("viewer")
    # Check the filter before streaming starts; the rows are read after this request's own
    # transaction has ended, in short transactions page by page.
    imports.check_export_filter(session, principal.workspace_id, segment_id)
    rows = imports.export_csv(cauce, principal.workspace_id, segment_id=segment_id, tag=tag)
    return StreamingResponse(
        rows, media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="contacts.csv"'},
    )


# ---- contacts ------------------------------------------------------------------------------


@router.post("/contacts", operation_id="create_contact", status_code=201)
def create_contact(
    body: ContactIn, session: SessionDep, principal: PrincipalDep, cauce: CauceDep
) -> ContactPublic:
    """Create a contact (409 when its phone, email or external id is taken)."""
    principal.require("agent")
    return ContactPublic.of(
        contacts.create_contact(session, principal.workspace_id, body, cauce.clock.now())
    )


@router.post("/contacts/upsert", operation_id="upsert_contact")
def upsert_contact(
    body: ContactIn, session: SessionDep, principal: PrincipalDep, cauce: CauceDep
) -> UpsertOut:
    """Update the contact with this external id, phone or email, or create it. Two existing
    contacts matched by different identifiers are merged (the older one is kept)."""
    principal.require("agent")
    row, created = contacts.upsert_contact(session, principal.workspace_id, body, cauce.clock.now())
    return UpsertOut(created=created, contact=ContactPublic.of(row))


@router.get("/contacts", operation_id="list_contacts")
def list_contacts(
    session: SessionDep, principal: PrincipalDep, limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
    q: Annotated[str | None, Query(max_length=200, description="Name, email, phone, id")] = None,
    tag: Annotated[str | None, Query(max_length=64)] = None,
    segment_id: IdQuery = None,
) -> PageOut[ContactPublic]:
    page = contacts.list_contacts(
        session, principal.workspace_id, limit=limit, cursor=cursor, q=q, tag=tag,
        segment_id=segment_id,
    )
    return PageOut(items=[ContactPublic.of(r) for r in page.items], next_cursor=page.next_cursor)


@router.get("/contacts/{contact_id}", operation_id="get_contact")
def get_contact(contact_id: IdPath, session: SessionDep, principal: PrincipalDep) -> ContactPublic:
    return ContactPublic.of(contacts.get_contact(session, principal.workspace_id, contact_id))


@router.patch("/contacts/{contact_id}", operation_id="update_contact")
def update_contact(
    contact_id: IdPath, body: ContactIn, session: SessionDep, principal: PrincipalDep,
    cauce: CauceDep,
) -> ContactPublic:
    """Change only the attributes sent. ``tags`` replaces the list; ``fields`` merges (null
    removes a value); ``consent`` merges per channel; attribution is kept from the first touch."""
    principal.require("agent")
    now = cauce.clock.now()
    row = contacts.update_contact(session, principal.workspace_id, contact_id, body, now)
    return ContactPublic.of(row)


@router.delete("/contacts/{contact_id}", operation_id="delete_contact", status_code=204)
def delete_contact(contact_id: IdPath, session: SessionDep, principal: PrincipalDep) -> Response:
    principal.require("editor")
    contacts.delete_contact(session, principal.workspace_id, contact_id)
    return Response(status_code=204)


@router.post("/contacts/{contact_id}/merge", operation_id="merge_contacts")
def merge_contacts(
    contact_id: IdPath, body: MergeIn, session: SessionDep, principal: PrincipalDep,
    cauce: CauceDep,
) -> ContactPublic:
    """Fold the duplicate ``merge_id`` into this contact (identifiers, tags, fields, consent,
    opportunities and tickets move here)."""
    principal.require("agent")
    row = contacts.merge_contacts(
        session, principal.workspace_id, contact_id, body.merge_id, cauce.clock.now()
    )
    return ContactPublic.of(row)


@router.post("/contacts/{contact_id}/tags", operation_id="add_contact_tags")
def add_contact_tags(
    contact_id: IdPath, body: TagsIn, session: SessionDep, principal: PrincipalDep, cauce: CauceDep
) -> ContactPublic:
    """Add tags (each new one is a ``contact.tag_added`` event for flows)."""
    principal.require("agent")
    now = cauce.clock.now()
    row = contacts.add_tags(session, principal.workspace_id, contact_id, body.tags, now)
    return ContactPublic.of(row)


@router.delete("/contacts/{contact_id}/tags/{tag}", operation_id="remove_contact_tag")
def remove_contact_tag(
    contact_id: IdPath, tag: str, session: SessionDep, principal: PrincipalDep, cauce: CauceDep
) -> ContactPublic:
    principal.require("agent")
    now = cauce.clock.now()
    row = contacts.remove_tags(session, principal.workspace_id, contact_id, [tag], now)
    return ContactPublic.of(row)
