"""Set-at-a-time writes and lookups for the runtime's hot path (one statement per batch).

On PostgreSQL a batch's rows travel as **one JSON document** and the server unpacks it with
``jsonb_to_recordset``: the driver sends one parameter, encoded by the standard library's C
JSON encoder, instead of psycopg adapting every value of every row (a pipelined executemany
spent more time in the driver's per-row Python than the server spent inserting). Text arrays
(``unnest``) were tried and were slower: psycopg escapes each element of a text array with a
regular expression, and JSON documents are full of quotes. Id lists go as one ``bigint[]``
(``= ANY``) rather than ``IN (...)`` with a parameter per id, whose statement text changes
with the count and is re-parsed by the driver each time; the array is sent as its text form
(:func:`pg_ids`), which PostgreSQL parses, rather than a Python list that psycopg adapts
element by element.

SQLite (embedded, one writer) keeps SQLAlchemy's executemany and ``IN`` lists.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

from pydantic_core import to_json
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Table,
    any_,
    bindparam,
    cast,
    insert,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session
from sqlalchemy.types import ARRAY, NullType

_PG = postgresql.dialect()  # type: ignore[no-untyped-call]


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def rows_json(rows: Sequence[dict[str, Any]]) -> str:
    """The rows as one JSON array. pydantic-core's serializer (already a dependency, through
    pydantic) writes datetimes as ISO 8601 and is ~3x faster than ``json.dumps`` with a
    ``default`` hook on these rows. The runtime's datetimes are aware (UTC clock), as the
    ``UTCDateTime`` columns require."""
    return to_json(rows).decode()


@cache
def _recordset(table: Table, columns: tuple[str, ...]) -> str:
    """``ROWS FROM (jsonb_to_recordset(...)) WITH ORDINALITY AS r(col, ..., ord)`` for ``columns``
    of ``table``, typed as the table's own columns are on PostgreSQL."""
    quote = _PG.identifier_preparer.quote
    defs = ", ".join(
        f"{quote(c)} {table.c[c].type.compile(dialect=_PG)}" for c in columns
    )
    names = ", ".join(quote(c) for c in columns)
    return (f"ROWS FROM (jsonb_to_recordset(CAST(:rows AS jsonb)) AS ({defs})) "
            f"WITH ORDINALITY AS r({names}, ord)")


# Rows per statement on PostgreSQL: one JSON document may not exceed 256 MB (jsonb's limit),
# which a million inputs of ~250 bytes did. 10,000 rows is a few MB, and the per-statement
# cost is already negligible at that size.
CHUNK = 10_000


def insert_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) in their order: ids of an identity column
    follow the list, which keeps arrival order for inputs. Any number of rows: on PostgreSQL
    they go ``CHUNK`` at a time, in order, in the caller's transaction."""
    if not rows:
        return
    if not is_postgres(session):
        session.execute(insert(table), rows)
        return
    columns = tuple(rows[0])
    quote = _PG.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    statement = text(f"INSERT INTO {table.name} ({names}) SELECT {names} "
                     f"FROM {_recordset(table, columns)} ORDER BY ord")
    for start in range(0, len(rows), CHUNK):
        session.execute(statement, {"rows": rows_json(rows[start:start + CHUNK])})


def update_rows(session: Session, table: Table, key: str, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL only: ``UPDATE table SET cols = r.cols FROM <rows> WHERE table.key = r.key``
    (every row carries ``key`` and the same columns)."""
    if not rows:
        return
    columns = tuple(rows[0])
    quote = _PG.identifier_preparer.quote
    sets = ", ".join(f"{quote(c)} = r.{quote(c)}" for c in columns if c != key)
    statement = text(f"UPDATE {table.name} AS t SET {sets} FROM {_recordset(table, columns)} "
                     f"WHERE t.{quote(key)} = r.{quote(key)}")
    for start in range(0, len(rows), CHUNK):
        session.execute(statement, {"rows": rows_json(rows[start:start + CHUNK])})


def pg_ids(ids: Iterable[int]) -> str:
    """``ids`` as a PostgreSQL array literal (``{1,2,3}``), for ``CAST(:ids AS bigint[])``.
    psycopg dumps a list of ints one element at a time in Python (array.py ``_dump_list``:
    ~7% of a batch's CPU for the six id lists of a batch); this is one ``str.join``. The
    values are ints, so the text needs no quoting.

    The parameter must reach the server untyped (psycopg sends a ``str`` as ``unknown``), so
    that the server types it as the ``bigint[]`` of the cast and parses it once, when the
    statement is bound. Typed as ``text`` (SQLAlchemy renders ``:ids::VARCHAR`` for a string
    bind), the cast is an I/O coercion through ``array_in``, which is only *stable*: it is
    not folded at planning, and in a scan's filter it is evaluated again for every row. A
    seq scan of 50,000 runs parsed the 500-id array 50,000 times (2.6 s for one batch);
    that is what raised a segment start's PostgreSQL CPU from 0.07 to 0.18 ms per start."""
    return "{" + ",".join(str(int(i)) for i in ids) + "}"


def id_in(session: Session, column: Any, ids: Iterable[int]) -> ColumnElement[bool]:
    """``column IN ids``: one ``bigint[]`` parameter on PostgreSQL (``= ANY``), an ``IN``
    list on SQLite."""
    values = sorted(ids)
    if not is_postgres(session):
        return column.in_(values)  # type: ignore[no-any-return]
    # The array's text form, cast by the server; untyped (NullType renders no bind cast),
    # so that it is parsed once (see pg_ids).
    return column == any_(  # type: ignore[no-any-return]
        cast(bindparam(None, pg_ids(values), type_=NullType()), ARRAY(BigInteger())))
