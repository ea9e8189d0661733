"""Due timers, claimed in due order, in batches.

A timer row is deleted in the transaction that fires it, so a timer fires at most once however
many schedulers run; whether it still matters is decided when it is processed (a run that moved
on ignores it). The runtime's scheduler fires timers straight into processing
(:meth:`cauce.runtime.processor.Processor.fire_timers`, with :func:`claim_due_timers`); a
virtual jump (:mod:`cauce.runtime.simclock`) turns them into ``TimerFired`` inputs
(:func:`fire_due_timers`), processed afterwards like any other input.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from cauce.engine.types import Input, TimerFired
from cauce.runtime import metrics
from cauce.runtime.ingest import submit_inputs
from cauce.runtime.wakeup import INPUTS_CHANNEL, notify_after_commit
from cauce.store.models.runtime import INPUT_PENDING, RuntimeTimer

# ``TimerFired(...).model_dump(mode="json")`` written by the server: pydantic's UTC format
# ("...T12:00:00Z", or "...T12:00:00.123000Z" with microseconds). A test holds the two equal.
_FIRED_AT_SQL = (
    "to_char(due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') || "
    "CASE WHEN extract(microseconds FROM due_at) % 1000000 = 0 THEN '' "
    "ELSE to_char(due_at AT TIME ZONE 'UTC', '.US') END || 'Z'"
)
_TIMER_KIND = TimerFired.model_fields["type"].default

# One statement: claim the due timers (skipping those another scheduler holds), delete them
# and store their inputs in due order (the identity follows the ORDER BY: arrival order).
# The data-modifying CTEs run to completion whatever the outer SELECT reads.
# Claim and delete the due timers, oldest first, skipping those another scheduler holds.
_CLAIM_SQL = """
DELETE FROM runtime_timers WHERE id IN (
    SELECT id FROM runtime_timers WHERE due_at <= :now
    ORDER BY due_at, id LIMIT :limit FOR UPDATE SKIP LOCKED)
RETURNING id, workspace_id, contact_id, timer_id, due_at
"""

_FIRE_PG = text(f"""
WITH due AS ({_CLAIM_SQL}), stored AS (
    INSERT INTO runtime_inputs (workspace_id, contact_id, kind, payload, dedupe_key, status,
                                created_at)
    SELECT workspace_id, contact_id, '{_TIMER_KIND}',
           jsonb_build_object('type', '{_TIMER_KIND}', 'timer_id', timer_id,
                              'fired_at', {_FIRED_AT_SQL}),
           NULL, '{INPUT_PENDING}', :now
    FROM due ORDER BY due_at, id
    RETURNING id
)
SELECT due_at FROM due
""")


def fire_due_timers(session: Session, now: datetime, *, limit: int = 2000) -> int:
    """Turn up to ``limit`` timers due at ``now`` into inputs, oldest due first.

    PostgreSQL: claim, delete and store the inputs in one statement (the rows never come to
    Python: per-row work here was a tenth of a resumed timer's cost). SQLite: claim and delete
    with one ``DELETE ... RETURNING``, then store the inputs."""
    if session.get_bind().dialect.name == "postgresql":
        due_at = list(session.scalars(_FIRE_PG, {"now": now, "limit": limit}))
        if due_at:
            notify_after_commit(session, INPUTS_CHANNEL)
    else:
        due_at = _fire_sqlite(session, now, limit)
    observe_fired(now, due_at)
    return len(due_at)


def _fire_sqlite(session: Session, now: datetime, limit: int) -> list[datetime]:
    claimed = claim_due_timers(session, now, limit)
    store_as_inputs(session, claimed, now)
    return [r.due_at for r in claimed]


_CLAIM_PG = text(_CLAIM_SQL)  # SQLite has one writer: nothing to skip, see claim_due_timers


def claim_due_timers(session: Session, now: datetime, limit: int) -> list[Any]:
    """Delete up to ``limit`` timers due at ``now`` and return them (``id``, ``workspace_id``,
    ``contact_id``, ``timer_id``, ``due_at``), oldest due first. The caller fires them in the
    same transaction."""
    if session.get_bind().dialect.name == "postgresql":
        rows = session.execute(_CLAIM_PG, {"now": now, "limit": limit}).all()
    else:
        due = (
            select(RuntimeTimer.id).where(RuntimeTimer.due_at <= now)
            .order_by(RuntimeTimer.due_at, RuntimeTimer.id).limit(limit)
        )
        rows = session.execute(
            delete(RuntimeTimer).where(RuntimeTimer.id.in_(due.scalar_subquery()))
            .returning(RuntimeTimer.id, RuntimeTimer.workspace_id, RuntimeTimer.contact_id,
                       RuntimeTimer.timer_id, RuntimeTimer.due_at)
            .execution_options(synchronize_session=False)
        ).all()
    return sorted(rows, key=lambda r: (r.due_at, r.id))  # RETURNING has no order


def store_as_inputs(session: Session, claimed: list[Any], now: datetime) -> None:
    """Claimed timers as ``TimerFired`` inputs, in the given (due) order."""
    rows: list[tuple[int, int, Input]] = [
        (r.workspace_id, r.contact_id, TimerFired(timer_id=r.timer_id, fired_at=r.due_at))
        for r in claimed
    ]
    submit_inputs(session, rows, now=now)


def observe_fired(now: datetime, due_at: list[datetime]) -> None:
    metrics.TIMERS_FIRED.inc(len(due_at))
    for at in due_at:
        metrics.TIMER_LATENESS.observe(max((now - at).total_seconds(), 0.0))


def next_due(session: Session) -> datetime | None:
    """When the earliest timer is due (None when there is none)."""
    return session.scalar(select(RuntimeTimer.due_at).order_by(RuntimeTimer.due_at).limit(1))
