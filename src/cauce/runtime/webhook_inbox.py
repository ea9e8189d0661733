"""Provider webhooks stored raw, answered at once, parsed by the runtime afterwards.

The webhook route does the least that is still durable: it checks the signature (against the
cached channel secrets, no query), writes the raw body and signature as one
``inbound_webhooks`` row and answers 200 once that row is committed. Concurrent requests share
one transaction (:class:`GroupCommit`): whoever finds no flush in progress inserts everything
queued so far with one statement and one commit, and the others wait for it.

Parsing into contacts, messages and runtime inputs is the runtime's work (:func:`drain`): one
drainer at a time (a PostgreSQL advisory lock; SQLite's single writer) claims the oldest
pending rows and parses them in one transaction, set-based (one query per kind of lookup and
one INSERT per table for the batch), so every contact's inputs get ids in the order its
webhooks arrived. A crash after the answer loses nothing (the row is
committed and still pending); a crash while draining rolls the whole batch back.
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

import anyio.to_thread
from sqlalchemy import Table, delete, insert, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from cauce.logging import get_logger
from cauce.runtime import metrics
from cauce.runtime.wakeup import INPUTS_CHANNEL, notify_after_commit
from cauce.services.container import Cauce
from cauce.store.db import write_first
from cauce.store.models.runtime import INPUT_DONE, INPUT_FAILED, INPUT_PENDING, InboundWebhook

log = get_logger(__name__)

# One drainer at a time (per schema: advisory locks are database-wide) keeps arrival order.
_DRAIN_LOCK_KEY = "hashtextextended(current_schema() || '/webhook-drain', 0)"
KEEP_DONE = timedelta(days=1)
KEEP_FAILED = timedelta(days=7)
PRUNE_EVERY_SECONDS = 600.0
SQLITE_BUDGET_SECONDS = 0.01
POSTGRES_BUDGET_SECONDS = 0.25
FIRST_BATCH_SIZE = 20  # then sized by the budget (see drain)
# A set-based batch costs a few milliseconds whatever its size: claiming fewer would spend
# more time on that than on the webhooks when the machine is busy (slow batches shrink it).
MIN_BATCH_SIZE = 10


def _table() -> Table:
    return cast(Table, InboundWebhook.__table__)


@dataclass
class _Slot:
    values: dict[str, Any]
    id: int | None = None
    error: BaseException | None = None
    done: bool = False


@dataclass
class _LoopQueue:
    """What :meth:`GroupCommit.write_async` queued on one event loop."""

    slots: list[tuple[_Slot, asyncio.Future[int]]] = field(default_factory=list)
    flusher: asyncio.Task[None] | None = None


class GroupCommit:
    """Inserts raw webhooks, many concurrent requests per transaction.

    :meth:`write` blocks until its row is committed and returns the row id (or raises the
    database error). No thread of its own: the first writer that finds no flush running
    becomes the leader and flushes the queue; rows queued meanwhile go in the next flush.

    :meth:`write_async` is the same on an event loop, for the webhook route: requests queue a
    future, one flusher task per loop sends each batch to a worker thread (one thread hop per
    transaction, not one per request, and no thread per waiting request) and resolves the
    futures once it is committed.
    """

    def __init__(self, cauce: Cauce, max_batch: int = 500) -> None:
        self.cauce = cauce
        self.max_batch = max_batch
        self._cond = threading.Condition()
        self._queue: list[_Slot] = []
        self._flushing = False
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopQueue] = \
            weakref.WeakKeyDictionary()
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

    async def write_async(self, *, provider: str, body: bytes, signature: str,
                          received_at: datetime) -> int:
        """:meth:`write` for the event loop: returns once the row is committed (or raises the
        database error); the transaction runs in a worker thread, never on the loop."""
        loop = asyncio.get_running_loop()
        queue = self._loops.get(loop)
        if queue is None:
            queue = self._loops[loop] = _LoopQueue()
        slot = _Slot({"provider": provider, "body": body, "signature": signature,
                      "received_at": received_at, "status": INPUT_PENDING})
        future: asyncio.Future[int] = loop.create_future()
        queue.slots.append((slot, future))
        if queue.flusher is None:
            queue.flusher = loop.create_task(self._flush_queued(queue))
        # shield: a request cancelled meanwhile (client gone) must not cancel the others' flush
        return await asyncio.shield(future)

    async def _flush_queued(self, queue: _LoopQueue) -> None:
        batch: list[tuple[_Slot, asyncio.Future[int]]] = []
        try:
            while queue.slots:
                batch, queue.slots = (queue.slots[:self.max_batch],
                                      queue.slots[self.max_batch:])
                slots = [slot for slot, _ in batch]
                await anyio.to_thread.run_sync(self._flush, slots, abandon_on_cancel=False)
                for slot, future in batch:
                    if not future.done():
                        if slot.error is not None:
                            future.set_exception(slot.error)
                        else:
                            future.set_result(self._outcome(slot))
                batch = []
        except BaseException as exc:  # the loop is closing: no waiter is left hanging
            for _, future in [*batch, *queue.slots]:
                if not future.done():
                    future.set_exception(exc if isinstance(exc, Exception)
                                         else RuntimeError("the webhook writer stopped"))
            queue.slots = []
            raise
        finally:
            queue.flusher = None

    def warm_up(self, received_at: datetime) -> None:
        """Run the INSERT once in a transaction that is rolled back: the pool opens a
        connection and SQLAlchemy compiles and caches the statement, so the first webhook
        does not pay for either (``cauce serve`` calls this before it accepts connections).
        Nothing is stored; on PostgreSQL one id of the sequence is skipped."""
        table = _table()
        with self.cauce.sessions() as session:
            session.scalars(
                insert(table).returning(table.c.id, sort_by_parameter_order=True),
                [{"provider": "warm-up", "body": b"{}", "signature": "",
                  "received_at": received_at, "status": INPUT_PENDING}],
            ).all()
            session.rollback()

    @staticmethod
    def _outcome(slot: _Slot) -> int:
        if slot.error is not None:
            raise slot.error
        assert slot.id is not None
        return slot.id

    def _flush(self, batch: list[_Slot]) -> None:
        table = _table()
        try:
            # SQLite: ahead of the runtime's transactions waiting for the write lock
            with write_first(), self.cauce.transaction() as session:
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

    The batch is parsed set-based (:func:`cauce.services.inbound.handle_whatsapp_batch`);
    if that fails on something unexpected, it is rolled back and parsed webhook by webhook,
    each in a savepoint, so one bad webhook is marked failed without failing the others.
    Either way the batch should end within ``budget_seconds`` (default: 10 ms on SQLite,
    whose single write lock the webhook route needs to store the next webhooks; 250 ms on
    PostgreSQL), so a drain never holds the route's answers back for long: a set-based batch
    has a fixed cost (a few statements) plus a small one per webhook, so the number claimed
    is adjusted after each batch towards what fits the budget (:func:`_next_size`); one by
    one, the batch stops once the budget is spent."""
    table = _table()
    with cauce.transaction() as session:
        if not _take_drain_lock(session):
            return 0
        started = time.perf_counter()
        if budget_seconds is None:
            sqlite = session.get_bind().dialect.name == "sqlite"
            budget_seconds = SQLITE_BUDGET_SECONDS if sqlite else POSTGRES_BUDGET_SECONDS
        size = cauce.extras.get("webhook_drain_size")
        size = min(limit, size if isinstance(size, int) else FIRST_BATCH_SIZE)
        rows = session.execute(
            select(table.c.id, table.c.provider, table.c.body, table.c.signature,
                   table.c.received_at)
            .where(table.c.status == INPUT_PENDING).order_by(table.c.id).limit(size)
        ).all()
        if not rows:
            _maybe_prune(cauce, session)
            return 0
        settled = _parse_batch(cauce, session, rows)
        if settled is None:
            settled = _parse_one_by_one(cauce, session, rows, started + budget_seconds)
        else:
            cauce.extras["webhook_drain_size"] = _next_size(
                size, len(rows), time.perf_counter() - started, budget_seconds, limit)
        session.execute(update(InboundWebhook), settled)
    for done in settled:
        metrics.WEBHOOKS_PARSED.labels(done["status"]).inc()
    return len(settled)


def _next_size(size: int, parsed: int, seconds: float, budget: float, limit: int) -> int:
    """How many webhooks the next batch claims: scaled by how far this batch was from the
    budget (at most doubled per batch), when it says something about that: it was full, or
    it overran the budget."""
    if parsed < size and seconds <= budget:
        return size  # fewer were pending: its time does not tell what a full batch costs
    return max(min(limit, MIN_BATCH_SIZE),
               min(limit, int(parsed * min(2.0, budget / max(seconds, 1e-6)))))


def _settled(row: Any, outcome: Any, now: datetime) -> dict[str, Any]:
    """The ``inbound_webhooks`` update of a parsed webhook (failed when it no longer
    verifies, e.g. the app secret changed since it arrived)."""
    return {"id": row.id, "status": INPUT_DONE if outcome.status_code == 200 else INPUT_FAILED,
            "result": {"status_code": outcome.status_code, "error": outcome.error,
                       **outcome.as_dict()},
            "processed_at": now}


def _parse_batch(cauce: Cauce, session: Session, rows: Sequence[Any]
                 ) -> list[dict[str, Any]] | None:
    """The batch parsed set-based, in a savepoint; None when that failed (rolled back)."""
    from cauce.services.inbound import (  # services import runtime
        BATCH_MEMO,
        BatchNotSupported,
        handle_whatsapp_batch,
    )

    now = cauce.clock.now()
    session.info[BATCH_MEMO] = {}  # per-batch lookups (workspace rules), see inbound
    try:
        with session.begin_nested():
            outcomes = handle_whatsapp_batch(session, cauce.secrets, [
                (bytes(row.body), row.signature, row.received_at) for row in rows])
    except OperationalError:
        # Transient (a deadlock with delivery, a lost connection): nothing of this batch is
        # kept; every webhook stays pending and is parsed again, in order.
        raise
    except BatchNotSupported as exc:  # something only the one-by-one path handles
        log.info("inbound_webhook_batch_one_by_one", reason=str(exc), first_id=rows[0].id)
        return None
    except Exception:  # found out webhook by webhook, below
        log.exception("inbound_webhook_batch_failed", first_id=rows[0].id, size=len(rows))
        return None
    return [_settled(row, outcome, now) for row, outcome in zip(rows, outcomes, strict=True)]


def _parse_one_by_one(cauce: Cauce, session: Session, rows: Sequence[Any],
                      ends: float) -> list[dict[str, Any]]:
    from cauce.services.inbound import BATCH_MEMO, handle_whatsapp

    now = cauce.clock.now()
    session.info[BATCH_MEMO] = {}
    settled: list[dict[str, Any]] = []
    for row in rows:
        if settled and time.perf_counter() > ends:
            break  # the rest stay pending for the next batch, still in order
        try:
            with session.begin_nested():
                outcome = handle_whatsapp(session, cauce.secrets, bytes(row.body),
                                          row.signature, row.received_at)
            settled.append(_settled(row, outcome, now))
        except OperationalError:
            raise  # as above: the whole batch stays pending
        except Exception as exc:  # one webhook must not stop the ones behind it
            log.exception("inbound_webhook_failed", webhook_id=row.id)
            settled.append({"id": row.id, "status": INPUT_FAILED, "processed_at": now,
                            "result": {"status_code": 500,
                                       "error": f"{type(exc).__name__}: {exc}"[:500]}})
    return settled


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

