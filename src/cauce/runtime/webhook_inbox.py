"""Provider webhooks stored raw, answered at once, parsed by the runtime afterwards.

The webhook route does the least that is still durable: it checks the signature (against the
cached channel secrets, no query), writes the raw body and signature as one
``inbound_webhooks`` row and answers 200 once that row is committed. Concurrent requests share
one transaction (:class:`GroupCommit`): whoever finds no flush in progress inserts everything
queued so far with one statement and one commit, and the others wait for it.

Parsing into contacts, messages and runtime inputs is the runtime's work (:func:`drain`): one
drainer at a time (a PostgreSQL advisory lock; SQLite's single writer) claims the oldest
pending rows and processes them in id order in one transaction, so every contact's inputs get
ids in the order its webhooks arrived. A crash after the answer loses nothing (the row is
committed and still pending); a crash while draining rolls the whole batch back.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, delete, insert, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from cauce.logging import get_logger
from cauce.runtime import metrics
from cauce.runtime.wakeup import INPUTS_CHANNEL, notify_after_commit
from cauce.services.container import Cauce
from cauce.store.models.runtime import INPUT_DONE, INPUT_FAILED, INPUT_PENDING, InboundWebhook

log = get_logger(__name__)

# One drainer at a time (per schema: advisory locks are database-wide) keeps arrival order.
_DRAIN_LOCK_KEY = "hashtextextended(current_schema() || '/webhook-drain', 0)"
KEEP_DONE = timedelta(days=1)
KEEP_FAILED = timedelta(days=7)
PRUNE_EVERY_SECONDS = 600.0
SQLITE_BUDGET_SECONDS = 0.01
POSTGRES_BUDGET_SECONDS = 0.25


def _table() -> Table:
    return cast(Table, InboundWebhook.__table__)


@dataclass
class _Slot:
    values: dict[str, Any]
    id: int | None = None
    error: BaseException | None = None
    done: bool = False


class GroupCommit:
    """Inserts raw webhooks, many concurrent requests per transaction.

    :meth:`write` blocks until its row is committed and returns the row id (or raises the
    database error). No thread of its own: the first writer that finds no flush running
    becomes the leader and flushes the queue; rows queued meanwhile go in the next flush.
    """

    def __init__(self, cauce: Cauce, max_batch: int = 500) -> None:
        self.cauce = cauce
        self.max_batch = max_batch
        self._cond = threading.Condition()
        self._queue: list[_Slot] = []
        self._flushing = False
        self.flushes = 0  # transactions committed (tests and benchmarks read it)

    def write(self, *, provider: str, body: bytes, signature: str, received_at: datetime) -> int:
        slot = _Slot({"provider": provider, "body": body, "signature": signature,
                      "received_at": received_at, "status": INPUT_PENDING})
        with self._cond:
            self._queue.append(slot)
            while not slot.done and self._flushing:
                self._cond.wait()
            if slot.done:
                return self._outcome(slot)
            self._flushing = True
            batch, self._queue = self._queue[:self.max_batch], self._queue[self.max_batch:]
        try:
            self._flush(batch)
        finally:
            with self._cond:
                self._flushing = False
                self._cond.notify_all()
        return self._outcome(slot)

    @staticmethod
    def _outcome(slot: _Slot) -> int:
        if slot.error is not None:
            raise slot.error
        assert slot.id is not None
        return slot.id

    def _flush(self, batch: list[_Slot]) -> None:
        table = _table()
        try:
            with self.cauce.transaction() as session:
                ids = session.scalars(
                    insert(table).returning(table.c.id, sort_by_parameter_order=True),
                    [slot.values for slot in batch],
                ).all()
                notify_after_commit(session, INPUTS_CHANNEL)
            for slot, row_id in zip(batch, ids, strict=True):
                slot.id = row_id
            self.flushes += 1
        except Exception as exc:  # every waiter gets the database's error, none hangs
            for slot in batch:
                slot.error = exc
        finally:
            for slot in batch:
                slot.done = True


def group_commit(cauce: Cauce) -> GroupCommit:
    """This process's writer for ``cauce`` (created on first use)."""
    writer = cauce.extras.get("webhook_group_commit")
    if not isinstance(writer, GroupCommit):
        writer = GroupCommit(cauce)
        cauce.extras["webhook_group_commit"] = writer
    return writer


def _take_drain_lock(session: Session) -> bool:
    if session.get_bind().dialect.name != "postgresql":
        return True  # SQLite: the transaction is the single writer already
    return bool(session.scalar(text(f"SELECT pg_try_advisory_xact_lock({_DRAIN_LOCK_KEY})")))


def drain(cauce: Cauce, limit: int = 200, budget_seconds: float | None = None) -> int:
    """Parse up to ``limit`` pending webhooks, oldest first, in one transaction; returns how
    many were settled (0 when none is pending or another process is draining).

    The batch also ends once it has worked ``budget_seconds`` (default: 10 ms on SQLite,
    whose single write lock the webhook route needs to store the next webhooks; 250 ms on
    PostgreSQL), so a drain never holds the route's answers back for long."""
    from cauce.services.inbound import BATCH_MEMO, handle_whatsapp  # services import runtime

    table = _table()
    with cauce.transaction() as session:
        if not _take_drain_lock(session):
            return 0
        rows = session.execute(
            select(table.c.id, table.c.provider, table.c.body, table.c.signature,
                   table.c.received_at)
            .where(table.c.status == INPUT_PENDING).order_by(table.c.id).limit(limit)
        ).all()
        if not rows:
            _maybe_prune(cauce, session)
            return 0
        now = cauce.clock.now()
        session.info[BATCH_MEMO] = {}  # per-batch lookups (workspace rules), see inbound
        if budget_seconds is None:
            sqlite = session.get_bind().dialect.name == "sqlite"
            budget_seconds = SQLITE_BUDGET_SECONDS if sqlite else POSTGRES_BUDGET_SECONDS
        ends = time.perf_counter() + budget_seconds
        settled: list[dict[str, Any]] = []
        for row in rows:
            if settled and time.perf_counter() > ends:
                break  # the rest stay pending for the next batch, still in order
            status, result = INPUT_DONE, None
            try:
                with session.begin_nested():
                    outcome = handle_whatsapp(session, cauce.secrets, bytes(row.body),
                                              row.signature, row.received_at)
                result = {"status_code": outcome.status_code, "error": outcome.error,
                          **outcome.as_dict()}
                if outcome.status_code != 200:
                    status = INPUT_FAILED  # e.g. the app secret changed since it arrived
            except OperationalError:
                # Transient (a deadlock with delivery, a lost connection): nothing of this
                # batch is kept; every webhook stays pending and is parsed again, in order.
                raise
            except Exception as exc:  # one webhook must not stop the ones behind it
                log.exception("inbound_webhook_failed", webhook_id=row.id)
                status = INPUT_FAILED
                result = {"status_code": 500, "error": f"{type(exc).__name__}: {exc}"[:500]}
            settled.append({"id": row.id, "status": status, "result": result,
                            "processed_at": now})
        session.execute(update(InboundWebhook), settled)
    for done in settled:
        metrics.WEBHOOKS_PARSED.labels(done["status"]).inc()
    return len(settled)


def _maybe_prune(cauce: Cauce, session: Session) -> None:
    """Forget settled webhooks after a while (at most every ten minutes per process)."""
    last = cauce.extras.get("webhook_pruned_at")
    if isinstance(last, float) and time.monotonic() - last < PRUNE_EVERY_SECONDS:
        return
    cauce.extras["webhook_pruned_at"] = time.monotonic()
    table, now = _table(), cauce.clock.now()
    session.execute(delete(table).where(table.c.status == INPUT_DONE,
                                        table.c.processed_at < now - KEEP_DONE))
    session.execute(delete(table).where(table.c.status == INPUT_FAILED,
                                        table.c.processed_at < now - KEEP_FAILED))

