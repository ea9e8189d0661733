"""Segments: saved filters over contacts, compiled to one SQL ``WHERE`` clause.

A filter is a group ``{"match": "all"|"any", "conditions": [...]}`` whose conditions are
``{"field", "op", "value"}`` or nested groups. Fields:

- text: ``phone email external_id name first_name last_name language country timezone source
  utm_source utm_medium utm_campaign ad_id attribution.source``
- number: ``lead_score``; boolean: ``opted_out_marketing``
- activity (datetimes): ``created_at updated_at last_inbound_at last_outbound_at``
- ``tags`` (``has``, ``has_not``, ``has_any``, ``has_all``)
- ``fields.<key>`` typed by the custom field definition; ``consent.<channel>`` (``eq``
  opted_in / opted_out, ``is_set``, ``is_not_set``)

Compiling to SQL (rather than filtering in Python) keeps a count of 100,000 contacts one
query; ``bench/bench_segments.py`` measures it.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import (
    ColumnElement,
    and_,
    false,
    func,
    not_,
    or_,
    select,
    true,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from cauce.services.contacts import CHANNELS, coerce_field_value, field_definitions
from cauce.services.errors import Conflict, Invalid, NotFound
from cauce.services.pagination import Page, paginate
from cauce.store.models import Contact, ContactField, Segment

TEXT_FIELDS = (
    "phone", "email", "external_id", "name", "first_name", "last_name", "language", "country",
    "timezone", "source", "utm_source", "utm_medium", "utm_campaign", "ad_id",
)
TIME_FIELDS = ("created_at", "updated_at", "last_inbound_at", "last_outbound_at")
TEXT_OPS = ("eq", "neq", "contains", "starts_with", "in", "is_set", "is_not_set")
NUMBER_OPS = ("eq", "neq", "gt", "gte", "lt", "lte", "is_set", "is_not_set")
TIME_OPS = ("before", "after", "within_days", "not_within_days", "is_set", "is_not_set")
TAG_OPS = ("has", "has_not", "has_any", "has_all")
MAX_CONDITIONS = 100


class Condition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: str = Field(max_length=100, examples=["tags"])
    op: str = Field(max_length=20, examples=["has"])
    value: Any = Field(default=None, examples=["vip"])


class FilterGroup(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "match": "all",
                    "conditions": [
                        {"field": "tags", "op": "has", "value": "vip"},
                        {"field": "lead_score", "op": "gte", "value": 50},
                        {"field": "last_inbound_at", "op": "within_days", "value": 30},
                        {"field": "utm_source", "op": "eq", "value": "facebook"},
                    ],
                }
            ]
        },
    )

    match: Literal["all", "any"] = "all"
    conditions: list[Condition | FilterGroup] = Field(default_factory=list)


def parse_filter(raw: dict[str, Any]) -> FilterGroup:
    try:
        return FilterGroup.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise Invalid(f"filter.{where}: {err['msg']}", field="filter") from None


def compile_filter(
    session: Session, workspace_id: int, raw: dict[str, Any] | FilterGroup,
    now: datetime | None = None,
) -> ColumnElement[bool]:
    """The SQL condition on ``contacts`` for a filter (validated; errors name the condition)."""
    group = raw if isinstance(raw, FilterGroup) else parse_filter(raw)
    compiler = _Compiler(session, workspace_id, now or datetime.now().astimezone())
    return compiler.group(group, "filter")


def has_tag(session: Session, tag: str) -> ColumnElement[bool]:
    if session.get_bind().dialect.name == "postgresql":
        return type_coerce(Contact.tags, JSONB).contains([tag])
    # SQLite keeps the list as JSON text; the quoted, JSON-escaped tag can only occur as a
    # whole element, and instr() is case-sensitive (LIKE is not) — several times faster
    # than json_each over 100,000 rows.
    return func.instr(Contact.tags, json.dumps(tag)) > 0


class _Compiler:
    def __init__(self, session: Session, workspace_id: int, now: datetime) -> None:
        self.session = session
        self.workspace_id = workspace_id
        self.now = now
        self.count = 0
        self._defs: dict[str, ContactField] | None = None

    def defs(self) -> dict[str, ContactField]:
        if self._defs is None:
            self._defs = field_definitions(self.session, self.workspace_id)
        return self._defs

    def group(self, group: FilterGroup, where: str) -> ColumnElement[bool]:
        parts = []
        for i, cond in enumerate(group.conditions):
            here = f"{where}.conditions.{i}"
            if isinstance(cond, FilterGroup):
                parts.append(self.group(cond, here))
            else:
                self.count += 1
                if self.count > MAX_CONDITIONS:
                    raise Invalid(f"filter: at most {MAX_CONDITIONS} conditions", field="filter")
                parts.append(self.condition(cond, here))
        if not parts:
            return true()
        return and_(*parts) if group.match == "all" else or_(*parts)

    def fail(self, where: str, message: str) -> Invalid:
        return Invalid(f"{where}: {message}", field="filter")

    def condition(self, c: Condition, where: str) -> ColumnElement[bool]:
        f, op, v = c.field, c.op, c.value
        if f == "tags":
            return self.tags(op, v, where)
        if f in TEXT_FIELDS:
            return self.text(getattr(Contact, f), op, v, where)
        if f == "attribution.source":
            return self.text(Contact.attribution["source"].as_string(), op, v, where)
        if f == "lead_score":
            return self.number(Contact.lead_score, op, v, where)
        if f == "opted_out_marketing":
            if op != "eq" or not isinstance(v, bool):
                raise self.fail(where, "opted_out_marketing supports eq with true or false")
            return Contact.opted_out_marketing.is_(v)
        if f in TIME_FIELDS:
            return self.time(getattr(Contact, f), op, v, where)
        if f.startswith("consent."):
            channel = f.split(".", 1)[1]
            if channel not in CHANNELS:
                raise self.fail(where, f"unknown channel '{channel}'")
            column: ColumnElement[str] = Contact.consent[channel]["status"].as_string()
            if op in ("is_set", "is_not_set"):
                return column.is_not(None) if op == "is_set" else column.is_(None)
            if op != "eq" or v not in ("opted_in", "opted_out"):
                raise self.fail(where, "consent supports eq opted_in|opted_out, is_set")
            return column == str(v)
        if f.startswith("fields."):
            return self.custom(f.split(".", 1)[1], op, v, where)
        raise self.fail(where, f"unknown field '{f}'")

    def tags(self, op: str, v: Any, where: str) -> ColumnElement[bool]:
        if op not in TAG_OPS:
            raise self.fail(where, f"tags supports {', '.join(TAG_OPS)}")
        values = v if isinstance(v, list) else [v]
        if not values or not all(isinstance(t, str) and t for t in values):
            raise self.fail(where, "value: a tag or a list of tags")
        parts = [has_tag(self.session, t) for t in values]
        if op == "has":
            return and_(*parts)
        if op == "has_all":
            return and_(*parts)
        if op == "has_any":
            return or_(*parts)
        return not_(or_(*parts))

    def text(self, column: Any, op: str, v: Any, where: str) -> ColumnElement[bool]:
        if op not in TEXT_OPS:
            raise self.fail(where, f"text fields support {', '.join(TEXT_OPS)}")
        if op == "is_set":
            return and_(column.is_not(None), column != "")
        if op == "is_not_set":
            return or_(column.is_(None), column == "")
        if op == "in":
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                raise self.fail(where, "value: a list of strings")
            return column.in_(v) if v else false()
        if not isinstance(v, str | int | float) or isinstance(v, bool):
            raise self.fail(where, "value: a string")
        text_v = str(v)
        if op == "eq":
            return column == text_v  # type: ignore[no-any-return]
        if op == "neq":
            return or_(column.is_(None), column != text_v)
        escaped = text_v.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%" if op == "contains" else f"{escaped}%"
        return column.ilike(pattern, escape="\\")  # type: ignore[no-any-return]

    def number(self, column: Any, op: str, v: Any, where: str) -> ColumnElement[bool]:
        if op not in NUMBER_OPS:
            raise self.fail(where, f"number fields support {', '.join(NUMBER_OPS)}")
        if op == "is_set":
            return column.is_not(None)  # type: ignore[no-any-return]
        if op == "is_not_set":
            return column.is_(None)  # type: ignore[no-any-return]
        if not isinstance(v, int | float) or isinstance(v, bool):
            raise self.fail(where, "value: a number")
        return {  # type: ignore[no-any-return]
            "eq": column == v, "neq": column != v, "gt": column > v, "gte": column >= v,
            "lt": column < v, "lte": column <= v,
        }[op]

    def time(self, column: Any, op: str, v: Any, where: str) -> ColumnElement[bool]:
        if op not in TIME_OPS:
            raise self.fail(where, f"dates support {', '.join(TIME_OPS)}")
        if op == "is_set":
            return column.is_not(None)  # type: ignore[no-any-return]
        if op == "is_not_set":
            return column.is_(None)  # type: ignore[no-any-return]
        if op in ("within_days", "not_within_days"):
            if not isinstance(v, int | float) or isinstance(v, bool) or v < 0 or v > 36500:
                raise self.fail(where, "value: a number of days (0 to 36500)")
            since = self.now - timedelta(days=float(v))
            if op == "within_days":
                return column >= since  # type: ignore[no-any-return]
            return or_(column.is_(None), column < since)
        moment = _parse_moment(v)
        if moment is None:
            raise self.fail(where, "value: an ISO date or datetime")
        return column < moment if op == "before" else column > moment  # type: ignore[no-any-return]

    def custom(self, key: str, op: str, v: Any, where: str) -> ColumnElement[bool]:
        definition = self.defs().get(key)
        if definition is None:
            raise self.fail(where, f"no custom field '{key}'")
        raw = Contact.fields[key]
        kind = definition.type
        if op in ("is_set", "is_not_set"):
            column = raw.as_string() if kind in ("text", "choice", "date") else raw
            return self.text(column, op, v, where) if kind != "number" else (
                self.number(raw.as_float(), op, v, where)
            )
        try:
            if kind == "number":
                return self.number(raw.as_float(), op, v, where)
            if kind == "boolean":
                if op != "eq":
                    raise self.fail(where, "boolean fields support eq")
                flag: ColumnElement[bool] = raw.as_boolean()
                return flag.is_(bool(coerce_field_value(definition, v)))
            if kind == "date":
                date_ops = {"before": "lt", "after": "gt", "eq": "eq"}
                if op not in date_ops:
                    raise self.fail(where, "date fields support before, after, eq, is_set")
                iso = coerce_field_value(definition, v)
                return self.text_compare(raw.as_string(), date_ops[op], iso)
            if op in ("eq", "neq") and v is not None and kind == "choice":
                coerce_field_value(definition, v)
            return self.text(raw.as_string(), op, v, where)
        except Invalid as exc:
            raise self.fail(where, exc.message) from None

    @staticmethod
    def text_compare(column: Any, op: str, v: str) -> ColumnElement[bool]:
        return {"lt": column < v, "gt": column > v, "eq": column == v}[op]  # type: ignore[no-any-return]


def _parse_moment(v: Any) -> datetime | None:
    if not isinstance(v, str):
        return None
    try:
        moment = datetime.fromisoformat(v)
    except ValueError:
        try:
            d = date.fromisoformat(v)
        except ValueError:
            return None
        moment = datetime(d.year, d.month, d.day)
    if moment.tzinfo is None:
        from datetime import UTC

        moment = moment.replace(tzinfo=UTC)
    return moment


# --------------------------------------------------------------------------------------------
# Saved segments
# --------------------------------------------------------------------------------------------


def create_segment(
    session: Session, workspace_id: int, name: str, raw_filter: dict[str, Any], now: datetime,
    description: str = "",
) -> Segment:
    name = name.strip()
    if not name:
        raise Invalid("name: required", field="name")
    compile_filter(session, workspace_id, raw_filter, now)  # reject a broken filter up front
    if session.scalar(
        select(Segment.id).where(Segment.workspace_id == workspace_id, Segment.name == name)
    ) is not None:
        raise Conflict(f"a segment named '{name}' already exists", field="name")
    row = Segment(
        workspace_id=workspace_id, name=name, description=description,
        filter=parse_filter(raw_filter).model_dump(mode="json"), created_at=now, updated_at=now,
    )
    session.add(row)
    session.flush()
    return row


def get_segment(session: Session, workspace_id: int, segment_id: int) -> Segment:
    row = session.get(Segment, segment_id)
    if row is None or row.workspace_id != workspace_id:
        raise NotFound(f"segment {segment_id} not found")
    return row


def update_segment(
    session: Session, workspace_id: int, segment_id: int, now: datetime, *,
    name: str | None = None, raw_filter: dict[str, Any] | None = None,
    description: str | None = None,
) -> Segment:
    row = get_segment(session, workspace_id, segment_id)
    if name is not None:
        name = name.strip()
        if not name:
            raise Invalid("name: required", field="name")
        clash = session.scalar(
            select(Segment.id).where(
                Segment.workspace_id == workspace_id, Segment.name == name,
                Segment.id != segment_id,
            )
        )
        if clash is not None:
            raise Conflict(f"a segment named '{name}' already exists", field="name")
        row.name = name
    if raw_filter is not None:
        compile_filter(session, workspace_id, raw_filter, now)
        row.filter = parse_filter(raw_filter).model_dump(mode="json")
    if description is not None:
        row.description = description
    row.updated_at = now
    return row


def delete_segment(session: Session, workspace_id: int, segment_id: int) -> None:
    session.delete(get_segment(session, workspace_id, segment_id))


def list_segments(
    session: Session, workspace_id: int, *, limit: int | None, cursor: str | None
) -> Page[Segment]:
    stmt = select(Segment).where(Segment.workspace_id == workspace_id)
    return paginate(session, stmt, Segment.id, limit, cursor)


def _in_workspace(session: Session, workspace_id: int) -> ColumnElement[bool]:
    """The workspace test of a segment query. On SQLite ``workspace_id + 0`` keeps the planner
    from walking a ``(workspace_id, ...)`` index: a segment is evaluated over most of a
    workspace, and 100,000 index-then-row lookups took 4-7 times as long as one scan of the
    table (bench/bench_segments.py). PostgreSQL's planner chooses well by itself."""
    if session.get_bind().dialect.name == "sqlite":
        return (Contact.workspace_id + 0) == workspace_id
    return Contact.workspace_id == workspace_id


def count_filter(
    session: Session, workspace_id: int, raw_filter: dict[str, Any] | FilterGroup, now: datetime
) -> int:
    cond = compile_filter(session, workspace_id, raw_filter, now)
    stmt = select(func.count()).select_from(Contact).where(
        _in_workspace(session, workspace_id), Contact.merged_into_id.is_(None), cond
    )
    return int(session.scalar(stmt) or 0)


def count_segment(session: Session, workspace_id: int, segment_id: int, now: datetime) -> int:
    segment = get_segment(session, workspace_id, segment_id)
    return count_filter(session, workspace_id, segment.filter, now)


def segment_contact_ids(
    session: Session, workspace_id: int, segment_id: int, now: datetime
) -> Any:
    """A ``SELECT contacts.id`` of the segment's members, for broadcasts and segment starts."""
    segment = get_segment(session, workspace_id, segment_id)
    cond = compile_filter(session, workspace_id, segment.filter, now)
    return select(Contact.id).where(
        _in_workspace(session, workspace_id), Contact.merged_into_id.is_(None), cond
    )


def contact_matches(
    session: Session, workspace_id: int, segment_id: int, contact_id: int, now: datetime
) -> bool:
    """Whether one contact is in the segment now (segment conditions in triggers)."""
    stmt = segment_contact_ids(session, workspace_id, segment_id, now).where(
        Contact.id == contact_id
    )
    return session.scalar(stmt) is not None
