"""Due timers become ``TimerFired`` inputs, in due order, in batches.

A timer row is deleted in the same transaction that stores its input, so a timer fires at most
once however many schedulers run; whether it still matters is decided when the input is
processed (a run that moved on ignores it).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cauce.engine.types import Input, TimerFired
from cauce.runtime import metrics
from cauce.runtime.ingest import submit_inputs
from cauce.store.models.runtime import RuntimeTimer


def fire_due_timers(session: Session, now: datetime, *, limit: int = 2000) -> int:
    """Turn up to ``limit`` timers due at ``now`` into inputs, oldest due first.

    Claim and delete are one statement (``DELETE ... WHERE id IN (SELECT ... FOR UPDATE SKIP
    LOCKED) RETURNING``): one round trip per batch, no ORM objects."""
    due = (
        select(RuntimeTimer.id).where(RuntimeTimer.due_at <= now)
        .order_by(RuntimeTimer.due_at, RuntimeTimer.id).limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    claimed = sorted(session.execute(
        delete(RuntimeTimer).where(RuntimeTimer.id.in_(due.scalar_subquery()))
        .returning(RuntimeTimer.id, RuntimeTimer.workspace_id, RuntimeTimer.contact_id,
                   RuntimeTimer.timer_id, RuntimeTimer.due_at)
        .execution_options(synchronize_session=False)
    ).all(), key=lambda r: (r.due_at, r.id))  # RETURNING has no order: inputs go in due order
    if not claimed:
        return 0
    rows: list[tuple[int, int, Input]] = [
        (r.workspace_id, r.contact_id, TimerFired(timer_id=r.timer_id, fired_at=r.due_at))
        for r in claimed
    ]
    submit_inputs(session, rows, now=now)
    metrics.TIMERS_FIRED.inc(len(rows))
    for r in claimed:
        metrics.TIMER_LATENESS.observe(max((now - r.due_at).total_seconds(), 0.0))
    return len(rows)


def next_due(session: Session) -> datetime | None:
    """When the earliest timer is due (None when there is none)."""
    return session.scalar(select(RuntimeTimer.due_at).order_by(RuntimeTimer.due_at).limit(1))
