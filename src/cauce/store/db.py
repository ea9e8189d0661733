"""Engines and sessions for SQLite (embedded) and PostgreSQL (scale-out)."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pydantic_core import from_json
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_SECONDS = 30.0


class DatabaseUnavailable(Exception):
    """The database cannot be reached; ``str(exc)`` is one line for the operator."""


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine tuned for the backend behind ``url``."""
    try:
        if url.startswith("sqlite"):
            engine = create_engine(
                url,
                connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_SECONDS},
                **kwargs,
            )
            event.listen(engine, "connect", _sqlite_pragmas)
            # pysqlite's own transaction handling defers BEGIN; take the write lock up front
            # so two writers never deadlock upgrading a read lock. Writers of this process
            # queue on a mutex first: SQLite's busy handler polls with sleeps of up to 100 ms,
            # which a waiting writer (a webhook's answer) would pay on every contention.
            writer = _SqliteWriter()
            event.listen(engine, "begin", writer.begin)
            event.listen(engine, "commit", writer.end)
            event.listen(engine, "rollback", writer.end)
            # A connection that goes back to the pool, or is thrown away, mid-transaction
            # (an error that invalidated it) must not keep the mutex.
            event.listen(engine, "checkin", writer.released)
            event.listen(engine, "invalidate", writer.released)
            return engine
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
        kwargs.setdefault("pool_pre_ping", True)
        # jsonb values are parsed by pydantic-core's JSON parser (Rust, already a dependency
        # through pydantic) instead of the standard library's: every run state, contact and
        # input payload the runtime reads goes through it (~1/10 of a resumed timer's CPU).
        kwargs.setdefault("json_deserializer", from_json)
        return create_engine(url, connect_args={"connect_timeout": 5}, **kwargs)
    except ArgumentError as exc:
        raise DatabaseUnavailable(f"CAUCE_DATABASE_URL: {exc}") from None


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see _sqlite_begin)
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_SECONDS * 1000)}")
    cursor.close()


_urgent = threading.local()


@contextmanager
def write_first() -> Iterator[None]:
    """SQLite: transactions begun by this thread inside this block take the process's write
    lock before any other waiting writer (the webhook route's group commit: a provider is
    waiting for the answer, the runtime's batches are not). Nothing on PostgreSQL."""
    _urgent.on = True
    try:
        yield
    finally:
        _urgent.on = False


class _SqliteWriter:
    """One writing transaction at a time per process and engine, handed over at once; a
    :func:`write_first` writer goes ahead of the others waiting. (A plain lock let the
    releasing thread take it straight back: the runtime's worker, going from one
    transaction to the next, kept a waiting webhook out for several in a row.)"""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._held = False
        self._urgent_waiting = 0

    def _acquire(self, urgent: bool) -> bool:
        deadline = time.monotonic() + SQLITE_BUSY_SECONDS
        with self._cond:
            self._urgent_waiting += urgent
            try:
                while self._held or (self._urgent_waiting and not urgent):
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return False
                    self._cond.wait(remaining)
                self._held = True
                return True
            finally:
                self._urgent_waiting -= urgent

    def _release(self) -> None:
        with self._cond:
            self._held = False
            self._cond.notify_all()

    def begin(self, conn: Any) -> None:
        if not self._acquire(getattr(_urgent, "on", False)):
            raise OperationalError("BEGIN IMMEDIATE", None,
                                   sqlite3.OperationalError("database is locked"))
        conn.info["cauce_writer"] = True
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            self.end(conn)
            raise

    def end(self, conn: Any) -> None:
        if conn.invalidated:
            return  # released when it was invalidated; its info is gone with it
        if conn.info.pop("cauce_writer", False):
            self._release()

    def released(self, _dbapi_conn: Any, record: Any, *_args: Any) -> None:
        if record is not None and record.info.pop("cauce_writer", False):
            self._release()


def check_connection(engine: Engine) -> None:
    """Raise :class:`DatabaseUnavailable` with a one-line reason when the database is down."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        where = engine.url.render_as_string(hide_password=True)
        message = f"CAUCE_DATABASE_URL: cannot connect to {where}: {reason}"
        raise DatabaseUnavailable(message) from None


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any exception."""
    with factory() as session, session.begin():
        yield session
