"""Waking workers when there is new work, without polling hard.

On PostgreSQL a ``NOTIFY`` issued inside the writer's transaction is delivered only when it
commits, so a listener never wakes for work it cannot see yet. Inside one process (embedded
mode, tests) an in-process event is set after commit as well; both are hints only: workers
still poll at a slow interval, so a lost wake-up delays work but never loses it.
"""

from __future__ import annotations

import threading

from sqlalchemy import event, text
from sqlalchemy.orm import Session

INPUTS_CHANNEL = "cauce_inputs"
OUTBOX_CHANNEL = "cauce_outbox"
TIMERS_CHANNEL = "cauce_timers"
IMPORTS_CHANNEL = "cauce_imports"


class Signal:
    """An in-process wake-up: ``wait`` returns early once ``notify`` was called."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def notify(self) -> None:
        self._event.set()

    def wait(self, timeout: float) -> bool:
        fired = self._event.wait(timeout)
        self._event.clear()
        return fired


# One signal per kind of work, shared by everything in this process.
SIGNALS: dict[str, Signal] = {
    INPUTS_CHANNEL: Signal(),
    OUTBOX_CHANNEL: Signal(),
    TIMERS_CHANNEL: Signal(),
    IMPORTS_CHANNEL: Signal(),
}


def notify_after_commit(session: Session, channel: str) -> None:
    """Wake this process's and (PostgreSQL) every other process's workers once ``session``
    commits. Safe to call many times per transaction: only the first arms the hooks."""
    armed: set[str] = session.info.setdefault("cauce_wakeups", set())
    if channel in armed:
        return
    armed.add(channel)
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:c, '')"), {"c": channel})

    def _after_commit(_session: Session) -> None:
        SIGNALS[channel].notify()

    def _clear(_session: Session) -> None:
        armed.discard(channel)

    event.listen(session, "after_commit", _after_commit, once=True)
    event.listen(session, "after_commit", _clear, once=True)
    event.listen(session, "after_rollback", _clear, once=True)
