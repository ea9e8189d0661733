"""Delivering the outbox: rate limits, retries, circuit breakers, dead letters.

One round of :meth:`Delivery.deliver_batch`:

1. **claim** (one transaction): the ready rows, replies first (``priority``), ``FOR UPDATE SKIP
   LOCKED``; each handler routes its row (channel config, contact rules, rate bucket); rows
   whose bucket is empty or whose provider's circuit is open are deferred without counting an
   attempt; the rest are marked ``sending`` with ``attempts + 1`` and a lease. The attempt is
   on disk **before** any provider is called.
2. **call** the providers, concurrently, outside any transaction, each call with a timeout:
   on the process's send loop (:func:`cauce.channels.http.send_loop`) for handlers with
   ``call_async`` (WhatsApp), in a thread pool for the others.
3. **record** (one transaction): done, retry with exponential backoff and jitter (or the
   provider's ``Retry-After``), or dead (with the reason, visible in the API); outcomes the
   flow waits for go back to the contact as inputs.

A crash between 2 and 3 leaves the row ``sending`` with its lease running out. When the lease
expires the outcome is *uncertain*: for WhatsApp, which echoes our key in its status webhooks
(``biz_opaque_callback_data``), we wait ``reconcile_grace`` for such a status to settle it
(see :func:`cauce.runtime.outbox.reconcile_status`) before sending again; other channels are
re-sent at once. ``uncertain`` counts these windows per row.

A contact's messages go out in queue order (id order), also across retries: a message row is
not claimed while an earlier message row of its contact is still to be sent and would not be
claimed with it (it waits for a retry, a rate bucket, a status, or sorts after it); within a
batch, once a contact's message is not sent (deferred, or its call asks for a retry), the
contact's later messages of the batch go back to the queue untouched (``held``).
"""

from __future__ import annotations

import asyncio
import math
import random
import threading
from collections import defaultdict
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol, cast

from sqlalchemy import (
    BindParameter,
    Table,
    and_,
    bindparam,
    exists,
    func,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session, aliased

from cauce.channels.http import send_loop
from cauce.clock import VirtualClock
from cauce.engine.types import Input
from cauce.logging import get_logger
from cauce.runtime import bulk, metrics, ratelimit
from cauce.runtime.bulk import id_in
from cauce.runtime.ingest import submit_input
from cauce.runtime.simclock import sync_virtual
from cauce.services.container import Cauce
from cauce.store.models.runtime import (
    OUTBOX_DEAD,
    OUTBOX_DONE,
    OUTBOX_PENDING,
    OUTBOX_SENDING,
    PRIORITY_NORMAL,
    OutboxItem,
)

log = get_logger(__name__)

UNCERTAIN = "uncertain"
MESSAGE = "message_requested"  # the kind whose rows keep their order per contact


@dataclass(frozen=True)
class Route:
    """Where and how fast a row may go. ``bucket``: rate-limit key (None: unlimited)."""

    provider: str
    bucket: str | None = None
    rate: float = 0.0
    burst: float = 1.0
    status_callbacks: bool = False  # the provider echoes our key in status webhooks
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Outcome:
    # defer: not yet, no attempt used; held: not called because an earlier message of the
    # contact was not sent, back to the queue with its attempt given back.
    status: Literal["done", "retry", "failed", "defer", "held"]
    provider_id: str | None = None
    error: str | None = None
    code: str | None = None
    retry_after: float | None = None
    # Fed back to the contact in the transaction that records the outcome.
    inputs: list[Input] = field(default_factory=list)


@dataclass(frozen=True)
class Attempt:
    id: int
    workspace_id: int
    contact_id: int
    run_id: str | None
    key: str
    kind: str
    channel: str
    payload: dict[str, Any]
    attempts: int


class Handler(Protocol):
    """Delivers one kind of outbox row."""

    def route(self, session: Session, item: Attempt) -> Route | Outcome:
        """Inside the claim transaction: look up what the call needs, or settle at once
        (e.g. a contact rule forbids the send)."""
        ...

    def call(self, item: Attempt, route: Route) -> Outcome:
        """Outside any transaction: talk to the provider. Must not raise for its errors.
        A handler may also define ``call_async(item, route)``, returning a coroutine that
        does the same on the send loop, or None where it has no asynchronous path for the
        row (delivery then runs ``call`` in its thread pool)."""
        ...

    def failed_inputs(self, item: Attempt, outcome: Outcome, now: datetime) -> list[Input]:
        """Inputs that tell the run the effect failed for good."""
        ...


HANDLERS: dict[str, Handler] = {}


def register_handler(kind: str, handler: Handler) -> None:
    """Register how outbox rows of ``kind`` (an engine event type) are delivered."""
    HANDLERS[kind] = handler


# Rows per claim when DeliveryConfig.batch_size is not set. Claim and record cost per send
# falls with the batch (one claim query, one contact-rules pass, one record transaction per
# batch): from 64 to 256 rows, end to end CPU per inbound message fell by ~0.6 ms on SQLite
# (docs/benchmarks.md). A 256-row claim or record holds SQLite's write lock ~20-30 ms, a
# tenth of what a processor batch holds it.
DEFAULT_BATCH = 256


@dataclass
class DeliveryConfig:
    batch_size: int = DEFAULT_BATCH
    # Lanes (a contact's messages, or one other effect) called at once; None: a quarter of
    # the batch, so a batch is at most four rounds of calls whatever its size.
    concurrency: int | None = None
    lease_seconds: float = 60.0  # longer than any call's timeout
    reconcile_grace: float = 30.0
    max_attempts: int = 8
    backoff_base: float = 2.0
    backoff_max: float = 3600.0


class Delivery:
    def __init__(
        self, cauce: Cauce, config: DeliveryConfig | None = None,
        handlers: dict[str, Handler] | None = None,
        wall_clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.cauce = cauce
        self.config = config or DeliveryConfig()
        self.handlers = handlers if handlers is not None else HANDLERS
        self.breaker = ratelimit.CircuitBreaker()
        self.wall = wall_clock or (lambda: datetime.now(UTC))
        self.batch_size = self.config.batch_size
        self.concurrency = self.config.concurrency or max(1, self.batch_size // 4)
        # Blocking handlers' calls (threads are started as needed).
        self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="deliver")
        self._closed = threading.Event()
        self.next_wake: float | None = None  # seconds until deferred rows are due
        # Per (rate bucket, priority): the last time this process queued rows on it for, and
        # how many it gave that time.
        self._lines: dict[tuple[str, int], tuple[datetime, int]] = {}
        # Built once (the clause is the same every round; ``now`` is bound per claim).
        now: BindParameter[datetime] = bindparam("now")
        self._claim_query = (
            select(*(getattr(OutboxItem, name) for name in _CLAIM_COLUMNS))
            .where(OutboxItem.status.in_([OUTBOX_PENDING, OUTBOX_SENDING]),
                   OutboxItem.next_attempt_at <= now,
                   or_(OutboxItem.kind != MESSAGE, ~_earlier_message_waits(now)))
            # id last: the rows of one activation share a time and keep their order.
            .order_by(OutboxItem.priority, OutboxItem.next_attempt_at, OutboxItem.id)
            .limit(self.batch_size)
            .with_for_update(skip_locked=True))
        self._soonest_query = (
            select(func.min(OutboxItem.next_attempt_at))
            .where(OutboxItem.status.in_([OUTBOX_PENDING, OUTBOX_SENDING]),
                   or_(OutboxItem.kind != MESSAGE, ~_earlier_message_waits(now))))

    def close(self) -> None:
        self._closed.set()
        self._pool.shutdown(wait=True)

    def _flow_now(self, session: Session) -> datetime:
        clock = self.cauce.clock
        if isinstance(clock, VirtualClock):
            return sync_virtual(session, clock)
        return clock.now()

    def deliver_batch(self) -> int:
        """One claim-call-record round; returns how many rows were attempted."""
        claimed = self._claim()
        if not claimed:
            return 0
        # A contact's messages go out one after the other, in queue order ("¡Genial!" before
        # the CSAT question that follows it); different contacts, and effects that are not
        # messages to the contact (webhooks, HTTP steps, team notes), go in parallel.
        lanes: dict[object, list[int]] = defaultdict(list)
        for index, (attempt, _) in enumerate(claimed):
            lane = (attempt.workspace_id, attempt.contact_id) \
                if attempt.kind == MESSAGE else ("row", attempt.id)
            lanes[lane].append(index)
        outcomes: list[Outcome | None] = [None] * len(claimed)
        send_loop().run(self._call_lanes(claimed, list(lanes.values()), outcomes))
        done = [o for o in outcomes if o is not None]
        assert len(done) == len(claimed)  # every lane ran every one of its rows
        self._record(claimed, done)
        return len(claimed)

    # ------------------------------------------------------------------ claim

    def _claim(self) -> list[tuple[Attempt, Route]]:
        now = self.wall()
        out: list[tuple[Attempt, Route]] = []
        self.next_wake = None
        with self.cauce.transaction() as session:
            rows = _load(session, self._claim_query, {"now": now})
            rows = self._without_overtakers(session, rows)
            if not rows:
                self._sleep_until_soonest(session, now)
                return out
            routed: list[tuple[_Row, Attempt, Route]] = []
            settles = _Settles()
            # Contact rules (24-hour window, caps, quiet hours) are flow semantics: they run on
            # the flows' clock, which is the shared virtual time in simulator mode.
            session.info["flow_now"] = self._flow_now(session) if rows else now
            attempts = {row.id: _attempt(row) for row in rows}
            self._prepare(session, list(attempts.values()))
            # Contacts one of whose messages is not going out in this batch: their later
            # messages in it stay queued, untouched (the claim query holds them back next time).
            stopped: set[int] = set()

            def stop(row: _Row) -> None:
                if row.kind == MESSAGE and row.status == OUTBOX_PENDING:
                    stopped.add(row.contact_id)

            for row in rows:
                attempt = attempts[row.id]
                if row.kind == MESSAGE and row.contact_id in stopped:
                    continue
                handler = self.handlers.get(row.kind)
                if handler is None:
                    self._dead(row, f"no delivery handler for '{row.kind}' effects", "no_handler",
                               now)
                    continue
                if row.status == OUTBOX_SENDING and row.last_error_code != UNCERTAIN:
                    # The lease ran out: the previous attempt's outcome is unknown.
                    row.uncertain += 1
                try:
                    routed_or_done = handler.route(session, attempt)
                except Exception as exc:
                    log.exception("outbox_route_failed", key=row.key)
                    routed_or_done = Outcome("retry", error=f"{type(exc).__name__}: {exc}",
                                             code="route_error")
                if isinstance(routed_or_done, Outcome):
                    self._apply(session, row, attempt, routed_or_done, handler, now, settles)
                    stop(row)
                    continue
                route = routed_or_done
                if (row.status == OUTBOX_SENDING and route.status_callbacks
                        and row.last_error_code != UNCERTAIN and self.config.reconcile_grace > 0):
                    # Give the provider's status webhook a chance to prove the send happened.
                    row.last_error_code = UNCERTAIN
                    row.last_error = "outcome of the last attempt unknown; waiting for a status"
                    row.next_attempt_at = now + timedelta(seconds=self.config.reconcile_grace)
                    if row.kind == MESSAGE:
                        stopped.add(row.contact_id)
                    continue
                routed.append((row, attempt, route))
            grants = self._take_tokens(session, routed, now)
            for row, _, route in routed:
                if row.kind == MESSAGE and row.contact_id in stopped:
                    continue  # an earlier message of the contact was deferred just above
                wait = self.breaker.open_for(route.provider)
                if wait > 0:
                    row.status = OUTBOX_PENDING
                    row.next_attempt_at = now + timedelta(seconds=wait)
                    # Not an attempt (the count is unchanged), but the queue says why it waits.
                    row.last_error = (f"circuit open: {route.provider} failed "
                                      f"{self.breaker.threshold} times in a row; "
                                      f"next try in {math.ceil(wait)} s")
                    stop(row)
                    continue
                if route.bucket is not None:
                    granted, wait = grants[route.bucket]
                    if granted <= 0:
                        metrics.RATE_LIMITED.labels(route.bucket).inc()
                        # Back in line for a later token (see _queue_slot).
                        row.status = OUTBOX_PENDING
                        row.next_attempt_at = self._queue_slot(route, row.priority, now, wait)
                        stop(row)
                        continue
                    grants[route.bucket] = (granted - 1, wait)
                row.status = OUTBOX_SENDING
                row.attempts += 1
                row.last_error_code = None
                row.next_attempt_at = now + timedelta(seconds=self.config.lease_seconds)
                row.updated_at = now
                out.append((_attempt(row), route))
            # Written before the commit that ends the claim: the attempt is on disk before
            # any provider is called.
            _store(session, rows)
            settles.run(session, now)
            if not out:  # all deferred: the loop sleeps
                self._sleep_until_soonest(session, now)
        return out

    def _sleep_until_soonest(self, session: Session, now: datetime) -> None:
        """Nothing sent this round: sleep until the earliest row a claim could take (queued
        behind a rate limit, a backoff, a lease), not poll. Rows a claim would not take — a
        contact's later messages while an earlier one waits — do not count: they are due
        long before they can go, and counting them made the loop poll every 20 ms."""
        soonest = session.scalar(self._soonest_query, {"now": now})
        if soonest is not None:
            # At least 20 ms: a row already due is held by another worker's claim, and
            # polling it every millisecond would only burn CPU.
            self._wake_in(max((soonest - now).total_seconds(), 0.02))

    def _without_overtakers(self, session: Session, rows: list[_Row]) -> list[_Row]:
        """Leave out message rows of a contact with an earlier message row still to send that
        this batch does not hold: on PostgreSQL another worker's claim may have it locked
        (skipped), unseen by the claim query's snapshot; both would be sent at once."""
        contacts = {r.contact_id for r in rows if r.kind == MESSAGE}
        if not contacts:
            return rows
        held = {r.id for r in rows}
        first_outside = dict(session.execute(
            select(OutboxItem.contact_id, func.min(OutboxItem.id))
            .where(id_in(session, OutboxItem.contact_id, contacts),
                   OutboxItem.kind == literal_column(f"'{MESSAGE}'"),
                   OutboxItem.status.in_([literal_column(f"'{OUTBOX_PENDING}'"),
                                          literal_column(f"'{OUTBOX_SENDING}'")]),
                   ~id_in(session, OutboxItem.id, held))
            .group_by(OutboxItem.contact_id)).all())
        if not first_outside:
            return rows
        return [r for r in rows if r.kind != MESSAGE
                or r.id < first_outside.get(r.contact_id, r.id + 1)]

    def _prepare(self, session: Session, attempts: list[Attempt]) -> None:
        """Let each handler gather what routing its rows needs with set queries for the whole
        batch (contacts, contact-rule facts, channel configs) instead of a few per row."""
        by_kind: dict[str, list[Attempt]] = defaultdict(list)
        for attempt in attempts:
            by_kind[attempt.kind].append(attempt)
        for kind, items in by_kind.items():
            prepare = getattr(self.handlers.get(kind), "prepare", None)
            if prepare is None:
                continue
            try:
                prepare(session, items)
            except Exception:  # route() then gathers per row and reports the error per row
                log.exception("outbox_prepare_failed", kind=kind)

    def _take_tokens(
        self, session: Session, routed: list[tuple[_Row, Attempt, Route]], now: datetime
    ) -> dict[str, tuple[int, float]]:
        wanted: dict[str, int] = defaultdict(int)
        spec: dict[str, Route] = {}
        for _, _, route in routed:
            if route.bucket is not None:
                wanted[route.bucket] += 1
                spec[route.bucket] = route
        grants: dict[str, tuple[int, float]] = {}
        for bucket in sorted(wanted):
            route = spec[bucket]
            # The time of taking, not of the claim's start: routing a batch takes a while,
            # and the tokens should match the moment the sends are released.
            grant = ratelimit.take(session, bucket, rate=route.rate, burst=route.burst,
                                   want=wanted[bucket], now=max(now, self.wall()))
            grants[bucket] = (grant.granted, grant.wait_seconds)
        return grants

    def _queue_slot(self, route: Route, priority: int, now: datetime, wait: float) -> datetime:
        """When a row its rate bucket cannot take now should be claimed again: at the times
        the bucket's tokens come back, a burst's worth of rows each (80/s: 8 rows every
        100 ms), after every row this process has already queued on the bucket at that
        priority. A queue much longer than a second of the rate (a broadcast, a burst of
        replies) is then claimed about once more per row; before, every waiting row was
        routed and put back at every refill (9–11.5 ms of CPU per send at 80/s, most of a
        core, and 11% under the rate when the box was busy). Each priority has its own
        line, all starting at the next tokens, so a long broadcast line never pushes a
        reply back; when lines meet, the claim's priority order picks and the row left over
        rejoins the end of its line.
        Lines are per process: with N workers a slot may be offered N times over, and the
        bucket (shared in the database) still decides."""
        if route.rate <= 0 or route.bucket is None:
            return now + timedelta(seconds=wait)
        # Rows come back in groups of the bucket's burst, one group per burst's worth of
        # refill (80/s: 8 rows every 100 ms), so each claim is worth its fixed cost; the first
        # group when the bucket will hold a whole group's tokens.
        group = max(1, int(route.burst))
        first = now + timedelta(seconds=wait + (group - 1) / route.rate)
        line = (route.bucket, priority)
        slot, taken = self._lines.get(line, (first, 0))
        if slot < first:
            slot, taken = first, 0
        elif taken >= group:
            slot, taken = slot + timedelta(seconds=group / route.rate), 0
        self._lines[line] = (slot, taken + 1)
        if len(self._lines) > 10_000:  # buckets that went quiet: forget their past lines
            self._lines = {k: v for k, v in self._lines.items() if v[0] > now}
        return slot

    def _wake_in(self, seconds: float) -> None:
        if self.next_wake is None or seconds < self.next_wake:
            self.next_wake = seconds

    # ------------------------------------------------------------------ call

    async def _call_lanes(self, claimed: list[tuple[Attempt, Route]],
                          lanes: list[list[int]], outcomes: list[Outcome | None]) -> None:
        """On the send loop: every lane at once, at most ``concurrency`` lanes in flight
        (taken in lane order), each lane's rows one after the other."""
        gate = asyncio.Semaphore(self.concurrency)

        async def run_lane(indexes: list[int]) -> None:
            async with gate:
                held = False
                for index in indexes:
                    if held:
                        # An earlier message of the contact will be retried: sending this one
                        # now would overtake it.
                        outcomes[index] = Outcome("held")
                        continue
                    outcome = outcomes[index] = await self._call(*claimed[index])
                    held = outcome.status not in ("done", "failed")

        await asyncio.gather(*(run_lane(indexes) for indexes in lanes))

    async def _call(self, attempt: Attempt, route: Route) -> Outcome:
        handler = self.handlers[attempt.kind]
        try:
            call_async = getattr(handler, "call_async", None)
            pending: Coroutine[Any, Any, Outcome] | None = (
                call_async(attempt, route) if call_async is not None else None)
            if pending is None:
                outcome = await asyncio.get_running_loop().run_in_executor(
                    self._pool, handler.call, attempt, route)
            else:
                outcome = await pending
        except Exception as exc:  # a handler bug: retry later rather than lose the effect
            log.exception("outbox_call_failed", key=attempt.key)
            outcome = Outcome("retry", error=f"{type(exc).__name__}: {exc}", code="exception")
        if outcome.status == "retry":
            if self.breaker.failure(route.provider):
                # Labelled by kind (whatsapp, http...): one series per sender or host would
                # grow without bound.
                metrics.CIRCUIT_OPEN.labels(route.provider.split(":", 1)[0]).inc()
        else:
            self.breaker.success(route.provider)
        metrics.SENDS.labels(attempt.channel or attempt.kind, outcome.status).inc()
        return outcome

    # ------------------------------------------------------------------ record

    def _record(self, claimed: list[tuple[Attempt, Route]], outcomes: list[Outcome]) -> None:
        now = self.wall()
        by_id = {a.id: (a, o) for (a, _), o in zip(claimed, outcomes, strict=True)}
        with self.cauce.transaction() as session:
            # Handlers record what they settle (the conversation log) on the flows' clock, the
            # one the contact rules count frequency caps and windows on.
            session.info["flow_now"] = self._flow_now(session)
            rows = _load(session, select(*(getattr(OutboxItem, name) for name in _RECORD_COLUMNS))
                         .where(id_in(session, OutboxItem.id, by_id))
                         .order_by(OutboxItem.id).with_for_update())
            settles = _Settles()
            # When a contact's message will be retried, the messages held behind it are due
            # with it (not before: they would sort ahead of it and wait for it alone).
            retry_at: dict[int, datetime] = {}
            for row in rows:
                attempt, outcome = by_id[row.id]
                if row.status != OUTBOX_SENDING or row.attempts != attempt.attempts:
                    # Settled meanwhile (a status webhook) or the lease ran out and another
                    # worker took over: its record wins.
                    continue
                self._apply(session, row, attempt, outcome, self.handlers[row.kind], now,
                            settles)
                if row.kind == MESSAGE and row.status == OUTBOX_PENDING:
                    if outcome.status == "held":
                        row.next_attempt_at = max(now, retry_at.get(row.contact_id, now))
                    else:
                        retry_at[row.contact_id] = row.next_attempt_at
            _store(session, rows)
            settles.run(session, now)

    def _apply(
        self, session: Session, row: _Row, attempt: Attempt, outcome: Outcome,
        handler: Handler, now: datetime, settles: _Settles,
    ) -> None:
        row.updated_at = now
        channel = row.channel or row.kind
        inputs = list(outcome.inputs)
        if outcome.status == "held":
            # Never called: back to the queue as it was, the attempt given back.
            row.status = OUTBOX_PENDING
            row.attempts = max(row.attempts - 1, 0)
            row.next_attempt_at = now
            return
        if outcome.status == "defer":
            row.status = OUTBOX_PENDING
            row.next_attempt_at = now + timedelta(seconds=outcome.retry_after or 60.0)
            row.last_error, row.last_error_code = outcome.error, outcome.code
            return
        if outcome.status == "done":
            row.status, row.provider_id = OUTBOX_DONE, outcome.provider_id
            row.last_error = row.last_error_code = None
        elif outcome.status == "retry" and row.attempts < self.config.max_attempts:
            delay = self._backoff(row.attempts, outcome.retry_after)
            row.status = OUTBOX_PENDING
            row.next_attempt_at = now + timedelta(seconds=delay)
            row.last_error, row.last_error_code = outcome.error, outcome.code
            metrics.RETRIES.labels(channel).inc()
        else:
            if outcome.status == "retry":
                outcome = Outcome("failed", error=f"gave up after {row.attempts} attempts: "
                                  f"{outcome.error}", code=outcome.code)
            self._dead(row, outcome.error or "failed", outcome.code, now)
            inputs += handler.failed_inputs(attempt, outcome, now)
        settles.add(handler, attempt, outcome)
        for inp in inputs:
            submit_input(session, workspace_id=row.workspace_id, contact_id=row.contact_id,
                         input=inp, now=now)

    def _dead(self, row: _Row, reason: str, code: str | None, now: datetime) -> None:
        row.status = OUTBOX_DEAD
        row.last_error, row.last_error_code = reason[:2000], code
        row.updated_at = now
        metrics.DEAD_LETTERS.labels(row.channel or row.kind).inc()

    def _backoff(self, attempts: int, retry_after: float | None) -> float:
        base = min(self.config.backoff_max, self.config.backoff_base * 2 ** max(attempts - 1, 0))
        delay = base * (0.5 + random.random() / 2)
        if retry_after is not None:
            delay = max(delay, retry_after)
        return float(delay)


class _Settles:
    """The handlers' ``settle`` calls of one transaction, made together at its end: a handler
    with ``settle_many`` gets its rows in one call (one multi-row write), others one by one."""

    def __init__(self) -> None:
        self._items: dict[int, tuple[Handler, list[tuple[Attempt, Outcome]]]] = {}

    def add(self, handler: Handler, attempt: Attempt, outcome: Outcome) -> None:
        if getattr(handler, "settle_many", None) is None and \
                getattr(handler, "settle", None) is None:
            return
        self._items.setdefault(id(handler), (handler, []))[1].append((attempt, outcome))

    def run(self, session: Session, now: datetime) -> None:
        for handler, items in self._items.values():
            many = getattr(handler, "settle_many", None)
            if many is not None:
                many(session, items, now)
                continue
            settle = handler.settle  # type: ignore[attr-defined]
            for attempt, outcome in items:
                settle(session, attempt, outcome, now)
        self._items.clear()


def _earlier_message_waits(now: Any) -> Any:
    """SQL: an earlier message row of the same contact is still to be sent and would not be
    claimed before this one (not due yet — a retry's backoff, a rate bucket, a lease or a
    status wait — or it sorts after this row in the claim order). The kind and statuses are
    literals so both databases match the partial index ``ix_runtime_outbox_contact_queue``."""
    earlier = aliased(OutboxItem)
    return exists().where(
        earlier.contact_id == OutboxItem.contact_id,
        earlier.id < OutboxItem.id,
        earlier.kind == literal_column(f"'{MESSAGE}'"),
        earlier.status.in_([literal_column(f"'{OUTBOX_PENDING}'"),
                            literal_column(f"'{OUTBOX_SENDING}'")]),
        or_(earlier.next_attempt_at > now,
            earlier.priority > OutboxItem.priority,
            and_(earlier.priority == OutboxItem.priority,
                 earlier.next_attempt_at > OutboxItem.next_attempt_at)),
    )


# Delivery reads and writes outbox rows through Core, not the ORM: per batch, one SELECT ...
# FOR UPDATE of the columns it needs and one executemany UPDATE of the rows it changed. Loading
# ORM objects and flushing them (unit of work) was about a third of delivery's CPU.
_WRITTEN = ("status", "attempts", "uncertain", "next_attempt_at", "provider_id", "last_error",
            "last_error_code", "updated_at")
_RECORD_COLUMNS = ("id", "workspace_id", "contact_id", "run_id", "key", "kind", "channel",
                   *_WRITTEN)
_CLAIM_COLUMNS = (*_RECORD_COLUMNS, "payload", "priority")


@dataclass
class _Row:
    """One outbox row as delivery changes it (see :func:`_load` / :func:`_store`)."""

    id: int
    workspace_id: int
    contact_id: int
    run_id: str | None
    key: str
    kind: str
    channel: str
    status: str
    attempts: int
    uncertain: int
    next_attempt_at: datetime
    provider_id: str | None
    last_error: str | None
    last_error_code: str | None
    updated_at: datetime
    payload: dict[str, Any] = field(default_factory=dict)
    priority: int = PRIORITY_NORMAL  # read by the claim only (never written back)
    loaded: tuple[Any, ...] = ()  # the written columns as read, to skip unchanged rows

    def written(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in _WRITTEN)


def _load(session: Session, query: Any, params: dict[str, Any] | None = None) -> list[_Row]:
    rows = [_Row(**row._mapping) for row in session.execute(query, params)]
    for row in rows:
        row.loaded = row.written()
    return rows


def _store(session: Session, rows: list[_Row]) -> None:
    """One statement for the batch's changed rows: an UPDATE from a JSON recordset on
    PostgreSQL (:func:`cauce.runtime.bulk.update_rows`), an executemany UPDATE on SQLite."""
    table = cast(Table, OutboxItem.__table__)
    changed = [{"row_id": row.id, **dict(zip(_WRITTEN, values, strict=True))}
               for row in rows if (values := row.written()) != row.loaded]
    if not changed:
        return
    if bulk.is_postgres(session):
        bulk.update_rows(session, table, "id",
                         [{"id": c.pop("row_id"), **c} for c in changed])
    else:
        session.execute(update(table).where(table.c.id == bindparam("row_id")), changed)


def _attempt(row: _Row) -> Attempt:
    return Attempt(
        id=row.id, workspace_id=row.workspace_id, contact_id=row.contact_id, run_id=row.run_id,
        key=row.key, kind=row.kind, channel=row.channel, payload=row.payload,
        attempts=row.attempts,
    )
