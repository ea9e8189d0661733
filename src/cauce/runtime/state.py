"""How a run's state is stored: compact, because a million waiting runs are a million rows.

``runtime_runs.state`` keeps only what the row's columns do not already say and what differs
from the engine's defaults (an empty ``results``, ``delivered: []``, ``null`` fields...). A
typical run waiting on a timer shrinks from ~715 to ~250 bytes of JSON. :func:`unpack_state`
restores the full :class:`~cauce.engine.types.RunState`; readers of the raw JSON (the API,
effect handlers) use it or tolerate the missing defaults.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cauce.engine.types import RunState

# Fields that are columns of runtime_runs: stored once, there.
_COLUMNS = frozenset({"run_id", "flow_id", "flow_version", "contact_id", "status",
                      "started_at", "updated_at"})


def pack_state(state: RunState) -> dict[str, Any]:
    """The JSON stored for ``state`` (without its column fields and defaults)."""
    return state.model_dump(mode="json", exclude_defaults=True, exclude=set(_COLUMNS))


def unpack_state(stored: dict[str, Any], *, run_id: str, flow_id: int, flow_version: int,
                 contact_id: int, status: str, started_at: datetime,
                 updated_at: datetime) -> RunState:
    """The full state back from the stored JSON and the row's columns. Rows written before
    states were packed carry every field already; the columns win."""
    return RunState.model_validate({
        **stored, "run_id": run_id, "flow_id": flow_id, "flow_version": flow_version,
        "contact_id": contact_id, "status": status, "started_at": started_at,
        "updated_at": updated_at,
    })


def full_state(row: Any) -> dict[str, Any]:
    """A stored run's complete state as JSON (``row``: a ``RuntimeRun``)."""
    return unpack_state(
        row.state or {}, run_id=row.id, flow_id=row.flow_id, flow_version=row.flow_version,
        contact_id=row.contact_id, status=row.status, started_at=row.started_at,
        updated_at=row.updated_at,
    ).model_dump(mode="json")
