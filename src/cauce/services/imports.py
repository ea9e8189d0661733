"""CSV import and export of contacts.

:func:`stage_import` keeps the uploaded file in the database as batches of rows, with the job
row; from then on any process imports it with :func:`process_next` (the API's background task,
the runtime's import loop in ``cauce serve`` and ``cauce worker``, the CLI). Each batch is one
transaction that upserts its contacts (matched by external id, phone or email), advances the
job's progress and deletes the batch, so an import killed halfway leaves whole contacts only,
its progress says how far it got, the next process carries on from there, and running the same
file again updates instead of duplicating. Bad rows are skipped and reported with their row
and reason.
"""

from __future__ import annotations

import copy
import csv
import io
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from sqlalchemy import String, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from cauce.limits import API_PAGE_SIZE_MAX, MAX_IMPORT_BYTES
from cauce.logging import get_logger
from cauce.runtime.wakeup import IMPORTS_CHANNEL, notify_after_commit
from cauce.services.contacts import (
    CHANNELS,
    coerce_field_value,
    field_definitions,
    normalize_email,
    normalize_phone,
    normalize_tag,
    timezone_for,
)
from cauce.services.container import Cauce
from cauce.services.errors import Invalid, NotFound, TooLarge
from cauce.services.pagination import Page, paginate
from cauce.store.models import Contact, ContactField, ImportChunk, ImportJob, Workspace

log = get_logger(__name__)

BATCH_SIZE = 1000
MAX_REPORTED_ERRORS = 1000
SIMPLE_TARGETS = (
    "phone", "email", "external_id", "name", "first_name", "last_name", "language", "tags",
    "lead_score", "opted_out_marketing",
)
UTM_TARGETS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
_TRUE = ("1", "true", "yes", "si", "sí", "y", "x", "opted_in")
_FALSE = ("0", "false", "no", "n", "opted_out", "")


def check_mapping(session: Session, workspace_id: int, mapping: dict[str, str]) -> None:
    if not mapping:
        raise Invalid(
            "mapping: map at least one column, e.g. Telefono=phone", field="mapping"
        )
    defs = field_definitions(session, workspace_id)
    targets = list(mapping.values())
    for target in targets:
        if target in SIMPLE_TARGETS or target in UTM_TARGETS:
            continue
        if target.startswith("fields.") and target[7:] in defs:
            continue
        if target.startswith("consent.") and target[8:] in CHANNELS:
            continue
        hint = (
            f"create the custom field '{target[7:]}' first" if target.startswith("fields.")
            else f"use one of {', '.join(SIMPLE_TARGETS + UTM_TARGETS)}, fields.<key>, "
            f"consent.<{'|'.join(CHANNELS)}>"
        )
        raise Invalid(f"mapping: unknown attribute '{target}'; {hint}", field="mapping")
    dupes = {t for t in targets if targets.count(t) > 1}
    if dupes:
        raise Invalid(f"mapping: '{sorted(dupes)[0]}' is mapped twice", field="mapping")
    if not any(t in ("phone", "email", "external_id") for t in targets):
        raise Invalid("mapping: map a phone, email or external_id column", field="mapping")


# --------------------------------------------------------------------------------------------
# Jobs
# --------------------------------------------------------------------------------------------


def stage_import(
    session: Session, workspace_id: int, filename: str, stream: IO[bytes],
    mapping: dict[str, str], now: datetime, *, batch_size: int = BATCH_SIZE,
) -> ImportJob:
    """Check the file and the mapping, store the rows in batches (``import_chunks``) and
    create the job, all in ``session``'s transaction: after commit any process can import it
    (:func:`process_next`). Nothing is imported yet."""
    check_mapping(session, workspace_id, mapping)
    stream.seek(0, io.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    if size > MAX_IMPORT_BYTES:
        raise TooLarge(
            f"file: {size / 2**20:.1f} MB is larger than {MAX_IMPORT_BYTES // 2**20} MB; "
            "split it into several files", field="file",
        )
    job = ImportJob(
        workspace_id=workspace_id, filename=filename[:500], mapping=mapping, status="pending",
        total_rows=0, created_at=now, errors=[],
    )
    session.add(job)
    session.flush()
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    try:
        reader = csv.reader(text)
        header = next(reader, None)
        if not header or not any(h.strip() for h in header):
            raise Invalid("file: empty; the first row must be the header", field="file")
        header = [h.strip() for h in header]
        missing = [c for c in mapping if c not in header]
        if missing:
            raise Invalid(
                f"mapping: column '{missing[0]}' is not in the file's header "
                f"({', '.join(header[:20])})", field="mapping",
            )
        total = 0
        seq = 0
        batch: list[list[str]] = []

        def store() -> None:
            out = io.StringIO()
            writer = csv.writer(out)
            writer.writerow(header)
            writer.writerows(batch)
            session.add(ImportChunk(
                workspace_id=workspace_id, job_id=job.id, seq=seq,
                first_row=total - len(batch) + 2, row_count=len(batch), body=out.getvalue(),
            ))

        for record in reader:
            if "\x00" in "".join(record):
                raise Invalid("file: binary data (NUL bytes); upload a CSV text file",
                              field="file")
            batch.append(record)
            total += 1
            if len(batch) == batch_size:
                store()
                session.flush()
                seq += 1
                batch = []
        if batch:
            store()
    except UnicodeDecodeError:
        raise Invalid("file: not UTF-8 text; export the CSV as UTF-8", field="file") from None
    except csv.Error as exc:
        raise Invalid(f"file: not a valid CSV ({exc})", field="file") from None
    finally:
        text.detach()  # leave the caller's stream open
    if total == 0:
        raise Invalid("file: no rows after the header", field="file")
    job.total_rows = total
    session.flush()
    notify_after_commit(session, IMPORTS_CHANNEL)
    return job


def get_job(session: Session, workspace_id: int, job_id: int) -> ImportJob:
    row = session.get(ImportJob, job_id)
    if row is None or row.workspace_id != workspace_id:
        raise NotFound(f"import {job_id} not found")
    return row


def list_jobs(
    session: Session, workspace_id: int, *, limit: int | None, cursor: str | None,
    active: bool | None = None,
) -> Page[ImportJob]:
    """The workspace's import jobs, oldest first; ``active``: only those still to finish
    (pending or running) or only the finished ones."""
    stmt = select(ImportJob).where(ImportJob.workspace_id == workspace_id)
    if active is not None:
        unfinished = ImportJob.status.in_(("pending", "running"))
        stmt = stmt.where(unfinished if active else ~unfinished)
    return paginate(session, stmt, ImportJob.id, limit, cursor)


def process_next(cauce: Cauce, job_id: int | None = None) -> int:
    """Import the next batch of a waiting job (``job_id``'s, or the oldest one's); the number
    of rows it covered, 0 when there was nothing to do.

    The job row is locked for the batch (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite
    transactions take the write lock up front), so one process imports a job's batches in
    file order while other processes take other jobs. The contacts, the job's counters and the
    deletion of the batch commit together: a crash rolls all three back and the batch is
    imported again by whoever claims the job next, so nothing is half written or counted
    twice."""
    claimed: int | None = None
    try:
        with cauce.transaction() as session:
            stmt = select(ImportJob).where(ImportJob.status.in_(("pending", "running")))
            if job_id is not None:
                stmt = stmt.where(ImportJob.id == job_id)
            stmt = stmt.order_by(ImportJob.id).limit(1)
            if session.get_bind().dialect.name == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True)
            job = session.scalar(stmt)
            if job is None:
                return 0
            claimed = job.id
            chunk = session.scalar(
                select(ImportChunk).where(ImportChunk.job_id == job.id)
                .order_by(ImportChunk.seq).limit(1)
            )
            return _import_chunk(cauce, session, job, chunk)
    except DBAPIError:
        raise  # the database's trouble: rolled back, retried by the caller
    except Exception as exc:  # rolled back too (the exception left the transaction)
        if claimed is None:
            raise
        failure = f"{type(exc).__name__}: {exc}"
    # Anything else would fail again on every retry: the job stops, whole contacts stay.
    log.exception("import_failed", job_id=claimed)
    with cauce.transaction() as session:
        failed = session.get(ImportJob, claimed)
        assert failed is not None
        failed.status = "failed"
        failed.message = failure[:2000]
        failed.finished_at = cauce.clock.now()
        session.execute(delete(ImportChunk).where(ImportChunk.job_id == claimed))
    return 1


def run_import(
    cauce: Cauce, workspace_id: int, job_id: int,
    progress: Callable[[ImportJob], None] | None = None, *, follow: bool = True,
) -> ImportJob:
    """Import every batch of one job in this process (the API's background task, the CLI),
    calling ``progress(job)`` after each. When another process is importing the same job,
    ``follow`` waits for it to finish (the CLI's progress bar); otherwise this returns and
    leaves the job to it (the API's background task)."""
    while True:
        did = process_next(cauce, job_id)
        with cauce.transaction() as session:
            job = get_job(session, workspace_id, job_id)
        if progress is not None:
            progress(job)
        if job.status not in ("pending", "running") or (not did and not follow):
            return job
        if not did:
            time.sleep(0.2)  # another process holds the job's lock for its current batch


# --------------------------------------------------------------------------------------------
# The import itself
# --------------------------------------------------------------------------------------------


@dataclass
class _Row:
    line: int
    ids: dict[str, str]  # phone/email/external_id, normalised
    values: dict[str, Any]  # plain columns
    tags: list[str] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)
    consent: dict[str, Any] = field(default_factory=dict)
    utm: dict[str, str] = field(default_factory=dict)


class _Parser:
    def __init__(
        self, mapping: dict[str, str], ws: Workspace, defs: dict[str, ContactField],
        now: datetime,
    ) -> None:
        self.mapping = mapping
        self.ws = ws
        self.defs = defs
        self.now = now
        self._zones: dict[str, str] = {}

    def zone(self, e164: str) -> str:
        # Zones follow country and area prefixes, never the subscriber's last digits, so
        # numbers sharing all but their last four digits share a zone: cached per import.
        prefix = e164[:-4]
        zone = self._zones.get(prefix)
        if zone is None:
            zone = self._zones[prefix] = timezone_for(e164, self.ws.timezone)
        return zone

    def parse(self, line: int, raw: dict[str, str | None]) -> _Row:
        row = _Row(line=line, ids={}, values={})
        for column, target in self.mapping.items():
            cell = (raw.get(column) or "").strip()
            if not cell:
                continue
            self._one(row, target, cell)
        if not row.ids:
            raise Invalid("no phone, email or external_id", field="phone")
        return row

    def _one(self, row: _Row, target: str, cell: str) -> None:
        if target == "phone":
            e164, country = normalize_phone(cell, self.ws.country)
            row.ids["phone"] = e164
            row.values["country"] = country
            row.values["timezone"] = self.zone(e164)
        elif target == "email":
            row.ids["email"] = normalize_email(cell)
        elif target == "external_id":
            row.ids["external_id"] = cell[:128]
        elif target in ("name", "first_name", "last_name"):
            row.values[target] = cell[: 200 if target == "name" else 100]
        elif target == "language":
            row.values["language"] = cell.lower()[:8]
        elif target == "tags":
            row.tags = [normalize_tag(t) for t in cell.replace(";", ",").split(",") if t.strip()]
        elif target == "lead_score":
            try:
                row.values["lead_score"] = int(float(cell.replace(",", ".")))
            except ValueError:
                raise Invalid(f"lead_score: '{cell}' is not a number", field="lead_score") from None
        elif target == "opted_out_marketing":
            row.values["opted_out_marketing"] = _flag(cell, "opted_out_marketing")
        elif target.startswith("fields."):
            row.fields[target[7:]] = coerce_field_value(self.defs[target[7:]], cell)
        elif target.startswith("consent."):
            status = "opted_in" if _flag(cell, target) else "opted_out"
            row.consent[target[8:]] = {
                "status": status, "source": "import", "at": self.now.isoformat()
            }
        elif target in UTM_TARGETS:
            row.utm[target[4:]] = cell[:200]


def _flag(cell: str, where: str) -> bool:
    text = cell.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise Invalid(f"{where}: '{cell}' is not yes/no", field=where)


@dataclass
class _Report:
    """Bad rows of one batch."""

    errors: list[dict[str, Any]] = field(default_factory=list)
    error_count: int = 0


def _import_chunk(
    cauce: Cauce, session: Session, job: ImportJob, chunk: ImportChunk | None
) -> int:
    now = cauce.clock.now()
    if chunk is None:  # every batch is done (a crash between the last batch and this)
        _finish(job, now)
        return 1
    job.status = "running"
    ws = session.get(Workspace, job.workspace_id)
    assert ws is not None
    parser = _Parser(dict(job.mapping), ws, field_definitions(session, job.workspace_id), now)
    report = _Report()
    batch: list[_Row] = []
    reader = csv.DictReader(io.StringIO(chunk.body))
    reader.fieldnames = [f.strip() for f in reader.fieldnames or ()]
    for offset, raw in enumerate(reader):
        line = chunk.first_row + offset
        try:
            batch.append(parser.parse(line, raw))
        except Invalid as exc:
            _bad(report, line, exc.message, exc.field)
    created, updated = _upsert_batch(session, job.workspace_id, batch, report, now)
    job.processed_rows += chunk.row_count
    job.created_count += created
    job.updated_count += updated
    job.error_count += report.error_count
    room = MAX_REPORTED_ERRORS - len(job.errors)
    if room > 0 and report.errors:
        job.errors = [*job.errors, *report.errors[:room]]  # a new list: JSON columns
    session.delete(chunk)
    session.flush()
    left = session.scalar(select(ImportChunk.id).where(ImportChunk.job_id == job.id).limit(1))
    if left is None:
        _finish(job, now)
    return chunk.row_count


def _finish(job: ImportJob, now: datetime) -> None:
    job.status = "completed"
    job.finished_at = now
    job.message = (
        f"{job.created_count} created, {job.updated_count} updated, {job.error_count} bad rows"
    )


def _bad(report: _Report, line: int, reason: str, where: str | None) -> None:
    report.error_count += 1
    if len(report.errors) < MAX_REPORTED_ERRORS:
        report.errors.append({"row": line, "reason": reason, "field": where})


def _upsert_batch(
    session: Session, workspace_id: int, batch: list[_Row], result: _Report, now: datetime
) -> tuple[int, int]:
    if not batch:
        return 0, 0
    conds = []
    for attr in ("phone", "email", "external_id"):
        wanted = {r.ids[attr] for r in batch if attr in r.ids}
        if wanted:
            conds.append(_among(session, getattr(Contact, attr), wanted))
    # Plain rows, not ORM objects: updates then go out as one executemany per batch
    # (bulk UPDATE by primary key) instead of one UPDATE round trip per contact.
    existing = [
        dict(r._mapping)
        for r in session.execute(
            select(*(Contact.__table__.c[name] for name in ("id", *_UPDATABLE))).where(
                Contact.workspace_id == workspace_id, Contact.merged_into_id.is_(None),
                or_(*conds),
            )
        )
    ]
    from cauce.services import webhook_subscriptions as hooks

    want_created = hooks.wanted(session, workspace_id, "contact.created")
    want_updated = hooks.wanted(session, workspace_id, "contact.updated")
    before = {c["id"]: copy.deepcopy(c) for c in existing} if want_updated else {}
    index: dict[tuple[str, str], dict[str, Any]] = {}
    for c in existing:
        for attr in ("phone", "email", "external_id"):
            if c[attr]:
                index[(attr, c[attr])] = c
    new: list[dict[str, Any]] = []
    touched: dict[int, dict[str, Any]] = {}
    for row in batch:
        targets = {id(t): t for k in row.ids.items() if (t := index.get(k)) is not None}
        if len(targets) > 1:
            _bad(
                result, row.line,
                "its phone, email and external_id belong to different contacts; merge them "
                "first (POST /api/v1/contacts/{id}/merge)", "phone",
            )
            continue
        target = next(iter(targets.values()), None)
        if target is None:
            target = {
                "workspace_id": workspace_id, "phone": None, "email": None, "external_id": None,
                "name": "", "first_name": "", "last_name": "", "language": None,
                "country": None, "timezone": None, "fields": {}, "tags": [], "lead_score": 0,
                "consent": {}, "opted_out_marketing": False, "opted_out_marketing_at": None,
                "attribution": {}, "utm_source": None, "utm_medium": None,
                "utm_campaign": None, "source": "import", "created_at": now, "updated_at": now,
            }
            new.append(target)
        _merge_row(target, row, now)
        if "id" in target:
            touched[target["id"]] = target
        for k in row.ids.items():
            index[k] = target
    for values in new:
        if not values["name"] and (values["first_name"] or values["last_name"]):
            values["name"] = f"{values['first_name']} {values['last_name']}".strip()
    if new:
        session.execute(insert(Contact), new)
    if touched:
        session.execute(update(Contact), list(touched.values()))
    if want_created or want_updated:
        _publish_imported(session, workspace_id, new if want_created else [],
                          [t for i, t in touched.items() if i in before
                           and _without_stamp(t) != _without_stamp(before[i])],
                          now)
    return len(new), len(touched)


def _among(session: Session, column: Any, values: set[str]) -> Any:
    """``column IN values`` for a batch's worth (up to 1,000) of identifiers.

    On PostgreSQL: one array parameter and a subquery over it. psycopg prepares a statement
    that runs often, and PostgreSQL's generic plan for ``IN ($1 … $1000)`` (or ``= ANY($1)``)
    compared every row with every value — 0.5 s a batch at 20,000 contacts, growing with the
    table; ``IN (SELECT unnest($1))`` is hashed."""
    if session.get_bind().dialect.name != "postgresql":
        return column.in_(values)
    array = bindparam(None, sorted(values), type_=ARRAY(String))
    return column.in_(select(func.unnest(array)))


def _without_stamp(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "updated_at"}


def _publish_imported(
    session: Session, workspace_id: int, created: list[dict[str, Any]],
    changed: list[dict[str, Any]], now: datetime,
) -> None:
    """Outbound webhooks for a batch (only when a subscription wants them): the rows were
    written in bulk, so the new contacts are read back by their identifiers."""
    from cauce.services.contacts import publish_contact

    conds = []
    for attr in ("phone", "email", "external_id"):
        wanted = {r[attr] for r in created if r.get(attr)}
        if wanted:
            conds.append(_among(session, getattr(Contact, attr), wanted))
    rows = list(session.scalars(select(Contact).where(
        Contact.workspace_id == workspace_id, or_(*conds)).order_by(Contact.id))) if conds else []
    for contact in rows:
        publish_contact(session, contact, "contact.created", now)
    if changed:
        for contact in session.scalars(select(Contact).where(
                Contact.id.in_([c["id"] for c in changed])).order_by(Contact.id)):
            publish_contact(session, contact, "contact.updated", now)


_UPDATABLE = (
    "phone", "email", "external_id", "name", "first_name", "last_name", "language", "country",
    "timezone", "tags", "fields", "lead_score", "consent", "opted_out_marketing",
    "opted_out_marketing_at", "attribution", "utm_source", "utm_medium", "utm_campaign",
    "updated_at",
)


def _merge_row(target: dict[str, Any], row: _Row, now: datetime) -> None:
    """Cells fill or overwrite attributes; empty cells never erase; tags are added."""

    def get(attr: str) -> Any:
        return target[attr]

    def put(attr: str, value: Any) -> None:
        target[attr] = value

    for attr, value in {**row.ids, **row.values}.items():
        if attr == "opted_out_marketing" and value and not get(attr):
            put("opted_out_marketing_at", now)
        put(attr, value)
    if row.tags:
        put("tags", list(dict.fromkeys([*(get("tags") or []), *row.tags])))
    if row.fields:
        put("fields", {**(get("fields") or {}), **row.fields})
    if row.consent:
        put("consent", {**(get("consent") or {}), **row.consent})
    if row.utm and not get("attribution"):
        put("attribution", {"source": "utm", "referral": None, "utm": row.utm,
                            "at": now.isoformat()})
        put("utm_source", row.utm.get("source"))
        put("utm_medium", row.utm.get("medium"))
        put("utm_campaign", row.utm.get("campaign"))
    put("updated_at", now)


# --------------------------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------------------------

EXPORT_COLUMNS = (
    "id", "phone", "email", "external_id", "name", "first_name", "last_name", "language",
    "country", "timezone", "tags", "lead_score", "opted_out_marketing", "utm_source",
    "utm_medium", "utm_campaign", "ad_id", "source", "created_at", "last_inbound_at",
    "last_outbound_at",
)


def check_export_filter(session: Session, workspace_id: int, segment_id: int | None) -> None:
    if segment_id is not None:
        from cauce.services.segments import get_segment

        get_segment(session, workspace_id, segment_id)


def export_csv(
    cauce: Cauce, workspace_id: int, *, segment_id: int | None = None, tag: str | None = None,
    page_size: int = API_PAGE_SIZE_MAX,
) -> Iterator[str]:
    """CSV text chunks: a header, then contacts in id order, read page by page so memory
    stays flat for any size."""
    from cauce.services.contacts import list_contacts

    with cauce.transaction() as session:
        keys = sorted(field_definitions(session, workspace_id))
    columns = [*EXPORT_COLUMNS, *(f"fields.{k}" for k in keys)]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    cursor: str | None = None
    while True:
        with cauce.transaction() as session:
            page = list_contacts(
                session, workspace_id, limit=page_size, cursor=cursor, tag=tag,
                segment_id=segment_id,
            )
            for c in page.items:
                writer.writerow([_cell(c, col) for col in columns])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


def _cell(contact: Contact, column: str) -> str:
    if column.startswith("fields."):
        value = (contact.fields or {}).get(column[7:])
    elif column == "tags":
        return ",".join(contact.tags or [])
    else:
        value = getattr(contact, column)
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
