"""The runtime's front door: everything that happens to a contact is stored here first.

Webhooks (inbound messages, delivery statuses), the events API, the CRM, the scheduler and the
runtime's own activity results all call :func:`submit_input` inside their own transaction, so
the input exists exactly when the caller's change does. Workers process a contact's inputs
after commit, strictly in arrival order (the input id), one at a time per contact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from pydantic import TypeAdapter
from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from cauce.engine.types import DeliveryStatus, Input
from cauce.runtime import bulk
from cauce.runtime.wakeup import INPUTS_CHANNEL, notify_after_commit
from cauce.store.models.runtime import INPUT_PENDING, RuntimeInput

INPUT_ADAPTER: TypeAdapter[Input] = TypeAdapter(Input)


def _table(model: type[Any]) -> Table:
    """The Core table of a model: bulk inserts through Core skip the ORM's per-row work."""
    return cast(Table, model.__table__)


def submit_input(
    session: Session,
    *,
    workspace_id: int,
    contact_id: int,
    input: Input,
    dedupe_key: str | None = None,
    now: datetime | None = None,
) -> bool:
    """Store an input for the contact in the caller's transaction (processed after commit,
    in arrival order per contact). False (and nothing stored) when ``dedupe_key`` was seen
    before in this workspace (a provider redelivering a webhook, a retried API call).

    ``now`` is the arrival time recorded for lag metrics (default: the real clock).
    """
    return submit_many(session, [PendingInput(workspace_id, contact_id, input, dedupe_key,
                                              now or datetime.now(UTC))])[0]


@dataclass(frozen=True)
class PendingInput:
    """One input for :func:`submit_many` (the arguments of :func:`submit_input`)."""

    workspace_id: int
    contact_id: int
    input: Input
    dedupe_key: str | None
    now: datetime


def submit_many(session: Session, items: list[PendingInput]) -> list[bool]:
    """:func:`submit_input` for many inputs with one INSERT (a drained batch of webhooks):
    ids are given in list order, so each contact's inputs keep the order of the list. Returns,
    per item, whether it was stored (False: its dedupe key was seen before, in the table or
    earlier in the list)."""
    if not items:
        return []
    values = [{
        "workspace_id": item.workspace_id,
        "contact_id": item.contact_id,
        "kind": item.input.type,
        "payload": item.input.model_dump(mode="json"),
        "dedupe_key": item.dedupe_key,
        "status": INPUT_PENDING,
        "created_at": item.now,
    } for item in items]
    if all(item.dedupe_key is None for item in items):
        bulk.insert_rows(session, _table(RuntimeInput), values)
        stored = [True] * len(items)
    else:
        kept = _insert_deduped(session, values)
        seen: set[tuple[int, str]] = set()
        stored = []
        for item in items:
            key = (item.workspace_id, item.dedupe_key) if item.dedupe_key is not None else None
            # A key repeated in the list was inserted once, for its first occurrence.
            stored.append(key is None or (key in kept and key not in seen))
            if key is not None:
                seen.add(key)
    for item, was_stored in zip(items, stored, strict=True):
        if was_stored and isinstance(item.input, DeliveryStatus):
            # A status for a send whose outcome we never recorded settles that uncertainty:
            # the provider has the message, so delivery must not send it again.
            from cauce.runtime.outbox import reconcile_status

            reconcile_status(session, item.input.message_key, item.input.status, now=item.now)
    if any(stored):
        notify_after_commit(session, INPUTS_CHANNEL)
    return stored


def submit_inputs(
    session: Session, rows: list[tuple[int, int, Input]], *, now: datetime | None = None
) -> int:
    """Store many inputs at once (segment starts, fired timers): ``(workspace_id,
    contact_id, input)`` each, in the given order. Returns how many were stored."""
    if not rows:
        return 0
    created = now or datetime.now(UTC)
    values = [
        {
            "workspace_id": ws, "contact_id": contact, "kind": inp.type,
            "payload": inp.model_dump(mode="json"), "dedupe_key": None,
            "status": INPUT_PENDING, "created_at": created,
        }
        for ws, contact, inp in rows
    ]
    bulk.insert_rows(session, _table(RuntimeInput), values)
    notify_after_commit(session, INPUTS_CHANNEL)
    return len(values)


def parse_input(payload: dict[str, Any]) -> Input:
    """The stored JSON back into its typed input."""
    return INPUT_ADAPTER.validate_python(payload)


def _insert_deduped(session: Session, values: list[dict[str, Any]]) -> set[tuple[int, str]]:
    """Insert the rows whose (workspace, dedupe key) is new; returns the keys inserted."""
    dialect = session.get_bind().dialect.name
    stmt: Any
    if dialect == "postgresql":
        stmt = postgresql.insert(RuntimeInput).on_conflict_do_nothing(
            index_elements=["workspace_id", "dedupe_key"]
        )
    else:
        stmt = sqlite.insert(RuntimeInput).on_conflict_do_nothing(
            index_elements=["workspace_id", "dedupe_key"]
        )
    # Parameters, not .values(literal dicts): the statement compiles once and is cached. One
    # multi-row INSERT (insertmanyvalues) assigns the ids in the order of ``values``.
    rows = session.execute(stmt.returning(RuntimeInput.workspace_id, RuntimeInput.dedupe_key),
                           values[0] if len(values) == 1 else values).all()
    return {(ws, key) for ws, key in rows}
