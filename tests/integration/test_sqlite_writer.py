"""SQLite writers of one process queue on a mutex (handed over at release) instead of
sleeping in SQLite's busy handler, and a connection lost mid-transaction never keeps it."""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path

from sqlalchemy import text

from cauce.store.db import make_engine, write_first


def test_a_waiting_writer_starts_when_the_holder_commits(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
    order: list[str] = []
    holding = threading.Event()

    def second() -> None:
        holding.wait(5)
        with engine.begin() as conn:  # blocks on the mutex until the first commits
            order.append("second")
            conn.execute(text("INSERT INTO t VALUES (2)"))

    thread = threading.Thread(target=second)
    thread.start()
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (1)"))
        holding.set()
        time.sleep(0.1)
        order.append("first")
    thread.join(5)
    assert order == ["first", "second"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM t ORDER BY rowid")).scalars().all() == [1, 2]
    engine.dispose()


def test_an_invalidated_connection_releases_the_mutex(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    conn = engine.connect()
    transaction = conn.begin()  # this connection holds the mutex
    conn.execute(text("SELECT 1"))
    conn.invalidate()  # e.g. the connection broke in the middle of the transaction
    started = time.monotonic()
    with engine.begin() as other:
        other.execute(text("SELECT 1"))
    assert time.monotonic() - started < 1  # not the 30 s wait for a mutex nobody releases
    transaction.rollback()
    conn.close()
    engine.dispose()


def test_a_write_first_writer_goes_ahead_of_the_others_waiting(tmp_path: Path) -> None:
    """The webhook route's group commit (``write_first``) waits for the transaction in
    progress only: not for the writers queued before it, nor for the holder starting its next
    transaction (as the runtime's worker does, drain then inputs, back to back)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
    order: list[str] = []

    def write(name: str, first: bool) -> None:
        with write_first() if first else contextlib.nullcontext(), engine.begin() as conn:
            order.append(name)
            conn.execute(text("INSERT INTO t VALUES (1)"))

    queued = threading.Thread(target=write, args=("queued", False))
    urgent = threading.Thread(target=write, args=("webhook", True))
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (0)"))
        queued.start()
        time.sleep(0.1)  # both wait on the mutex by now
        urgent.start()
        time.sleep(0.1)
        order.append("holder")
    write("holder again", False)  # straight back for the lock, as a busy worker does
    queued.join(5)
    urgent.join(5)
    assert order[:2] == ["holder", "webhook"]
    assert sorted(order[2:]) == ["holder again", "queued"]
    engine.dispose()
