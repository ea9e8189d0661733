"""The virtual clock, shared by every process through the database.

``cauce.clock.VirtualClock`` is each process's view; the ``runtime_clock`` row is the truth.
Every process syncs its view from the row before it uses the time, and only
:func:`advance` moves the row (under a row lock, so two advances never interleave).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cauce.clock import VirtualClock
from cauce.runtime.scheduler import fire_due_timers
from cauce.services.container import Cauce
from cauce.services.errors import Conflict, Invalid
from cauce.store.models.runtime import INPUT_PENDING, RuntimeClock, RuntimeInput, RuntimeTimer

MAX_ADVANCE_SECONDS = 10 * 365 * 86400
# Timers fired per step of an advance: timers due within one step are fired together at the
# step's end time, in due order (like a real scheduler that is at most one batch late).
ADVANCE_STEP_TIMERS = 2000


def sync_virtual(session: Session, clock: VirtualClock, *, lock: bool = False) -> datetime:
    """Bring ``clock`` to the shared virtual time (creating the row from ``clock`` at first)."""
    stmt = select(RuntimeClock).where(RuntimeClock.id == 1)
    row = session.scalar(stmt.with_for_update() if lock else stmt)
    if row is None:
        row = RuntimeClock(id=1, now=clock.now())
        session.add(row)
        session.flush()
    elif row.now > clock.now():
        clock.set(row.now)
    elif lock and row.now < clock.now():
        row.now = clock.now()
    return clock.now()


@dataclass(frozen=True)
class AdvanceResult:
    before: datetime
    now: datetime
    timers_fired: int


def advance(cauce: Cauce, seconds: float, drain: Callable[[], None]) -> AdvanceResult:
    """Move virtual time forward by ``seconds``, firing every timer due in between in due
    order and processing what they cause (``drain`` processes all pending inputs), so timers
    created along the way that fall inside the jump fire too."""
    clock = cauce.clock
    if not cauce.settings.virtual_clock or not isinstance(clock, VirtualClock):
        raise Conflict(
            "the clock is real: time can only be advanced when Cauce runs with "
            "CAUCE_CLOCK=virtual (simulation and tests)", code="real_clock",
        )
    if not 0 <= seconds <= MAX_ADVANCE_SECONDS:
        raise Invalid(f"seconds must be between 0 and {MAX_ADVANCE_SECONDS}", field="seconds")
    with cauce.transaction() as session:
        before = sync_virtual(session, clock, lock=True)
    target = before + timedelta(seconds=seconds)
    fired = 0
    drain()
    while True:
        with cauce.transaction() as session:
            now = sync_virtual(session, clock, lock=True)
            step_to = _step_end(session, now, target)
            row = session.get(RuntimeClock, 1)
            assert row is not None
            if step_to > now:
                row.now = step_to
                clock.set(step_to)
            while n := fire_due_timers(session, step_to, limit=ADVANCE_STEP_TIMERS):
                fired += n
        drain()
        if step_to >= target:
            with cauce.transaction() as session:
                more = session.scalar(
                    select(func.count()).where(RuntimeTimer.due_at <= target)
                )
            if not more:
                break
    return AdvanceResult(before=before, now=clock.now(), timers_fired=fired)


def _step_end(session: Session, now: datetime, target: datetime) -> datetime:
    due = session.scalars(
        select(RuntimeTimer.due_at).where(RuntimeTimer.due_at <= target)
        .order_by(RuntimeTimer.due_at).limit(ADVANCE_STEP_TIMERS)
    ).all()
    if not due:
        return target
    return max(now, due[-1])


def wait_until_drained(cauce: Cauce, process: Callable[[], int], timeout: float = 600) -> None:
    """Process inputs here until none is pending (others may be processing some, too)."""
    deadline = time.monotonic() + timeout
    while True:
        if process():
            continue
        with cauce.transaction() as session:
            pending = session.scalar(
                select(func.count()).where(RuntimeInput.status == INPUT_PENDING)
            )
        if not pending:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{pending} inputs still pending after {timeout} s")
        time.sleep(0.01)
