"""The runtime's front door: everything that happens to a contact is stored here first.

Webhooks (inbound messages, delivery statuses), the events API, the CRM, the scheduler and the
runtime's own activity results all call :func:`submit_input` inside their own transaction, so
the input exists exactly when the caller's change does. Workers process a contact's inputs
after commit, strictly in arrival order (the input id), one at a time per contact.
"""

from __future__ import annotations

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
    created = now or datetime.now(UTC)
    values: dict[str, Any] = {
        "workspace_id": workspace_id,
        "contact_id": contact_id,
        "kind": input.type,
        "payload": input.model_dump(mode="json"),
        "dedupe_key": dedupe_key,
        "status": INPUT_PENDING,
        "created_at": created,
    }
    stored = _insert(session, [values], dedupe=dedupe_key is not None)
    if stored and isinstance(input, DeliveryStatus):
        # A status for a send whose outcome we never recorded settles that uncertainty:
        # the provider has the message, so delivery must not send it again.
        from cauce.runtime.outbox import reconcile_status

        reconcile_status(session, input.message_key, input.status, now=created)
    if stored:
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
    _insert(session, values, dedupe=False)
    notify_after_commit(session, INPUTS_CHANNEL)
    return len(values)


def parse_input(payload: dict[str, Any]) -> Input:
    """The stored JSON back into its typed input."""
    return INPUT_ADAPTER.validate_python(payload)


def _insert(session: Session, values: list[dict[str, Any]], *, dedupe: bool) -> bool:
    if not dedupe:
        bulk.insert_rows(session, _table(RuntimeInput), values)
        return True
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
    # Parameters, not .values(literal dict): the statement compiles once and is cached, not
    # once per webhook.
    result = session.execute(stmt.returning(RuntimeInput.id), values[0])
    return result.first() is not None
