"""Keyset pagination shared by every list: ``limit`` plus an opaque ``cursor``.

Keyset (``WHERE id > :after ORDER BY id``) rather than offsets, so a page costs the same on the
first and the thousandth page and rows inserted meanwhile never shift a page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute, Session

from cauce.limits import API_PAGE_SIZE_DEFAULT, API_PAGE_SIZE_MAX
from cauce.services.errors import Invalid

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    if not cursor.isdigit() or len(cursor) > 19:
        raise Invalid("cursor: use the next_cursor of a previous page", field="cursor")
    return int(cursor)


def check_limit(limit: int | None) -> int:
    if limit is None:
        return API_PAGE_SIZE_DEFAULT
    if limit < 1 or limit > API_PAGE_SIZE_MAX:
        raise Invalid(f"limit: between 1 and {API_PAGE_SIZE_MAX}", field="limit")
    return limit


def paginate(
    session: Session, stmt: Select[Any], id_column: InstrumentedAttribute[int],
    limit: int | None, cursor: str | None,
) -> Page[Any]:
    """Run ``stmt`` (a select of ORM rows) one page at a time, ordered by ``id_column``."""
    size = check_limit(limit)
    after = decode_cursor(cursor)
    rows = list(
        session.scalars(stmt.where(id_column > after).order_by(id_column).limit(size + 1))
    )
    more = len(rows) > size
    rows = rows[:size]
    return Page(items=rows, next_cursor=str(rows[-1].id) if more and rows else None)
