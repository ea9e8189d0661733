"""Processing stored inputs: claim, decide (engine), and persist everything in one transaction.

One call of :meth:`Processor.process_batch` is one transaction:

1. claim up to ``batch_size`` of the oldest pending inputs (PostgreSQL: ``FOR UPDATE SKIP
   LOCKED``, then a transaction-scoped advisory lock per contact; SQLite: the single writer);
2. keep, per contact, only the unbroken prefix of its pending inputs, so a contact's inputs are
   processed strictly in arrival order even when another worker holds an older one;
3. load the contacts, their runs and the workspaces' published flows with a few set queries;
4. ask the engine to plan, start and resume (pure, in memory; ids derive from the input id so
   re-processing after a crash produces the same runs, keys and timers);
5. write run states, timers, outbox rows, step log, counters and the inputs' status in bulk.

A contact handed to a person by a ``handoff`` step is paused: its inbound messages are settled
without starting or resuming any run, because they are the agent's to answer. The pause holds
from the transaction that commits the handoff step (its undelivered ``handoff_requested``
outbox row, and for the rest of the batch in memory) until the agent closes the conversation
(:func:`cauce.services.inbox.paused_contacts`), so no message slips to the bot between the step
and the delivery that opens the conversation.

Grouping many inputs per transaction (group commit) is what makes this fast: the cost of a
commit is shared by the whole batch.
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from pydantic import BaseModel
from sqlalchemy import (
    Table,
    bindparam,
    delete,
    func,
    literal,
    literal_column,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from cauce.clock import VirtualClock
from cauce.engine.types import (
    ContactSnapshot,
    ContactUpdated,
    Context,
    ExitTaken,
    FlowStartRequested,
    Input,
    ManualStart,
    MessageIn,
    RemoveFromFlowsRequested,
    RunState,
    RunStatus,
    StepEntered,
    TimerCancelled,
    TimerFired,
    WaitStarted,
    WorkspaceSnapshot,
)
from cauce.logging import get_logger
from cauce.runtime import bulk, metrics, webhook_inbox
from cauce.runtime.bulk import id_in
from cauce.runtime.engine_port import FlowEngine, PastRun, Plan, PublishedFlow
from cauce.runtime.ingest import parse_input
from cauce.runtime.scheduler import claim_due_timers, observe_fired, store_as_inputs
from cauce.runtime.simclock import sync_virtual
from cauce.runtime.state import pack_state, unpack_state
from cauce.runtime.wakeup import OUTBOX_CHANNEL, notify_after_commit
from cauce.services.container import Cauce
from cauce.services.inbox import paused_contacts, unseen_from
from cauce.store.models import Contact, Flow, FlowVersion, Workspace
from cauce.store.models.runtime import (
    INPUT_DONE,
    INPUT_FAILED,
    INPUT_PENDING,
    OUTBOX_PENDING,
    PRIORITY_BROADCAST,
    PRIORITY_NORMAL,
    PRIORITY_REPLY,
    FlowCounter,
    OutboxItem,
    RuntimeInput,
    RuntimeRun,
    RuntimeTimer,
    StepLogEntry,
)

log = get_logger(__name__)

# Events that become outbox rows, delivered after commit by the delivery loop.
OUTBOX_EVENTS = frozenset({
    "message_requested", "notification_requested", "http_requested", "ai_requested",
    "ticket_requested", "handoff_requested", "opportunity_update_requested",
})
_BROADCAST_SOURCES = ("segment", "schedule", "relative_date", "broadcast")
# Advisory locks are database-wide, not per schema: a contact's key includes the schema, so
# two deployments (or test processes) sharing one database in their own schemas never hold
# each other's contacts. A rare hash collision only makes a worker skip a contact this round.
CONTACT_LOCK_KEY = "hashtextextended(current_schema() || '/contact/' || c::text, 0)"


@dataclass
class _Run:
    state: RunState
    document: dict[str, Any]
    is_new: bool
    dirty: bool = False


@dataclass
class _ContactWork:
    contact_id: int
    workspace_id: int
    snapshot: ContactSnapshot | None
    runs: dict[str, _Run] = field(default_factory=dict)
    past: list[PastRun] = field(default_factory=list)
    contact_changes: dict[str, Any] = field(default_factory=dict)
    handed_over: bool = False  # a run of this batch handed the contact to people


@dataclass(frozen=True)
class _FiredTimer:
    """A due timer processed straight from its row, without an input row (see
    :meth:`Processor.fire_timers`); it reads as a claimed input row does."""

    timer_row: int
    workspace_id: int
    contact_id: int
    input: TimerFired
    kind: str = TimerFired.model_fields["type"].default
    id: None = None  # no input row

    @property
    def payload(self) -> TimerFired:
        """What the step log records as the input: the model, serialized with the batch
        (see _flush)."""
        return self.input


@dataclass
class _Writes:
    timers: list[dict[str, Any]] = field(default_factory=list)
    outbox: list[dict[str, Any]] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    counters: dict[tuple[int, int, int, str, str], int] = field(
        default_factory=lambda: defaultdict(int)
    )
    new_inputs: list[tuple[int, int, Input]] = field(default_factory=list)
    cancelled_timers: list[str] = field(default_factory=list)
    done: list[int] = field(default_factory=list)
    failed: list[tuple[int, str]] = field(default_factory=list)
    failed_timers: list[tuple[_FiredTimer, str]] = field(default_factory=list)
    goals: list[tuple[int, int, dict[str, Any]]] = field(default_factory=list)
    # (contact id, input id, outbox row) of each handoff requested in the batch (no input id:
    # a timer fired straight from its row).
    handoffs: list[tuple[int, int | None, dict[str, Any]]] = field(default_factory=list)


class _Ids:
    """Ids derived from the input id (a fired timer's: from its row id, ``t`` first, so the
    two never meet): re-processing an input yields the same ids."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        return f"{self.prefix}.{self.n}"


class Processor:
    """Claims and processes inputs. One per worker thread; stateless between batches except
    for a cache of immutable flow versions."""

    def __init__(
        self, cauce: Cauce, engine: FlowEngine, *, batch_size: int = 200,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.cauce = cauce
        self.engine = engine
        self.batch_size = batch_size
        self.now = now or cauce.clock.now
        self.shard = os.getpid() % 16
        self._versions: dict[tuple[int, int], dict[str, Any]] = {}

    # ---------------------------------------------------------------- claim

    def process_batch(self) -> int:
        """Parse the webhooks stored since the last batch (their own transaction, see
        :mod:`cauce.runtime.webhook_inbox`), then process one batch of inputs in one
        transaction; returns how many webhooks and inputs it settled."""
        return webhook_inbox.drain(self.cauce, limit=self.batch_size) + self._process_inputs()

    def _process_inputs(self) -> int:
        with self.cauce.transaction() as session:
            if isinstance(self.cauce.clock, VirtualClock):
                sync_virtual(session, self.cauce.clock)
            rows = self._claim(session)
            if not rows:
                return 0
            started = time.perf_counter()
            writes = self._process(session, rows)
            self._flush(session, writes)
            metrics.BATCH_SECONDS.observe(time.perf_counter() - started)
        settled = len(writes.done) + len(writes.failed)
        metrics.INPUTS_PROCESSED.inc(len(writes.done))
        metrics.INPUTS_FAILED.inc(len(writes.failed))
        return settled

    def _claim(self, session: Session) -> list[Any]:
        cols = (_INPUT.c.id, _INPUT.c.workspace_id, _INPUT.c.contact_id,
                _INPUT.c.kind, _INPUT.c.payload, _INPUT.c.created_at)
        postgres = bulk.is_postgres(session)
        if postgres:
            # Right after a bulk load (a segment start, 100,000 timers firing) the statistics
            # still say pending inputs are rare, and PostgreSQL read *every* pending input
            # (bitmap scan + sort) for each batch instead of walking the queue index in id
            # order: 44 ms a batch at 100,000 pending, a cost growing with the backlog.
            session.execute(text("SET LOCAL enable_bitmapscan = off"))
        candidates = session.execute(
            # The status as a literal: a prepared statement's generic plan can only use the
            # partial index (WHERE status = 'pending') if the value is in the query text.
            select(*cols).where(_INPUT.c.status == literal_column(f"'{INPUT_PENDING}'"))
            .order_by(_INPUT.c.id).limit(self.batch_size)
            .with_for_update(skip_locked=True)
        ).all()
        if not postgres:
            return list(candidates)
        session.execute(text("SET LOCAL enable_bitmapscan TO DEFAULT"))
        if not candidates:
            return []
        locked = _lock_contacts(session, {r.contact_id for r in candidates})
        if not locked:
            return []
        # Another worker may hold an older input of a contact we locked (claimed as a
        # candidate before we took the contact's lock): keep only the unbroken prefix.
        claimed = {r.id for r in candidates}
        # Pending inputs of the locked contacts up to the newest claimed one: only those can
        # break a claimed input's prefix (a later one comes after every claimed input of its
        # contact). The bound keeps the read to the head of the queue whatever plan the
        # planner picks: the claimed inputs are the oldest pending ones, so below the bound
        # there are only them and those other workers hold. Without it, with statistics that
        # lag a bulk load (100,000 timers just fired), PostgreSQL hash-joined every pending
        # input once per batch (~20 ms at 90,000 pending); a plain ``contact_id = ANY(...)``
        # or a forced probe per contact (``OFFSET 0``) were worse still (the queue index
        # walked per contact: 100,000 timers in 393 s instead of 39 s).
        pending = session.execute(
            text("SELECT c.id, i.id FROM unnest(CAST(:ids AS bigint[])) AS c(id) "
                 "CROSS JOIN LATERAL (SELECT id FROM runtime_inputs "
                 f"WHERE contact_id = c.id AND status = '{INPUT_PENDING}' "
                 "AND id <= CAST(:upto AS bigint)) AS i ORDER BY 1, 2"),
            {"ids": bulk.pg_ids(sorted(locked)), "upto": max(claimed)},
        ).all()
        allowed: set[int] = set()
        blocked: set[int] = set()
        for contact_id, input_id in pending:
            if contact_id in blocked:
                continue
            if input_id in claimed:
                allowed.add(input_id)
            else:
                blocked.add(contact_id)
        return [r for r in candidates if r.id in allowed]

    # ---------------------------------------------------------------- timers

    def fire_timers(self, limit: int = 1000) -> int:
        """Fire up to ``limit`` due timers, oldest due first, in one transaction; returns how
        many fired.

        A timer whose contact has nothing pending (and whose contact this worker could lock)
        is processed here, straight from its row: its run resumes in this transaction, and
        the timer row is deleted by it, so it fires exactly once, and a crash rolls both
        back. Going through an input row wrote, claimed and settled a row per timer (about
        a fifth of a resumed timer's CPU, worker and database). A contact with pending
        inputs, or one another worker holds, gets its timer as a ``TimerFired`` input after
        them, as before, so its inputs keep their order."""
        with self.cauce.transaction() as session:
            if isinstance(self.cauce.clock, VirtualClock):
                now = sync_virtual(session, self.cauce.clock)
            else:
                now = self.now()
            claimed = claim_due_timers(session, now, limit)
            if not claimed:
                return 0
            started = time.perf_counter()
            free = _lock_contacts(session, {t.contact_id for t in claimed})
            if free:
                free -= _with_pending_inputs(session, free)
            direct = [t for t in claimed if t.contact_id in free]
            queued = [t for t in claimed if t.contact_id not in free]
            if queued:
                store_as_inputs(session, queued, now)
            if direct:
                writes = self._process(session, [_fired(t) for t in direct])
                self._flush(session, writes)
                metrics.INPUTS_PROCESSED.inc(len(direct) - len(writes.failed_timers))
                metrics.INPUTS_FAILED.inc(len(writes.failed_timers))
            observe_fired(now, [t.due_at for t in claimed])
            metrics.BATCH_SECONDS.observe(time.perf_counter() - started)
        return len(claimed)

    # ---------------------------------------------------------------- decide

    def _process(self, session: Session, rows: list[Any]) -> _Writes:
        writes = _Writes()
        by_contact: dict[int, list[Any]] = defaultdict(list)
        for row in rows:
            by_contact[row.contact_id].append(row)
        work = self._load(session, rows)
        workspaces = self._workspaces(session, {r.workspace_id for r in rows})
        flows = self._published(session, {r.workspace_id for r in rows})
        # Contacts handed to a person: their messages are for the agent, not for flows.
        paused = paused_contacts(session, sorted({r.contact_id for r in rows
                                                  if r.kind == "message"}))
        now = self.now()
        for contact_id, inputs in by_contact.items():
            cw = work[contact_id]
            for row in inputs:  # in arrival order (claimed by id; timers in due order)
                if row.kind == "message" and (contact_id in paused or cw.handed_over):
                    writes.done.append(row.id)
                    continue
                self._one(cw, row, workspaces, flows.get(row.workspace_id, []), now, writes)
        self._persist_runs(session, work)
        self._persist_contacts(session, work)
        return writes

    def _one(
        self, cw: _ContactWork, row: Any, workspaces: dict[int, WorkspaceSnapshot],
        flows: list[PublishedFlow], now: datetime, writes: _Writes,
    ) -> None:
        if cw.snapshot is None:
            _fail(writes, row, f"contact {row.contact_id} does not exist")
            return
        if isinstance(row, _FiredTimer):
            inp: Input = row.input
            ids = _Ids(f"t{row.timer_row:x}")
        else:
            try:
                inp = parse_input(row.payload)
            except ValueError as exc:
                writes.failed.append((row.id, f"unreadable input: {exc}"))
                return
            ids = _Ids(f"{row.id:x}")
        wsnap = workspaces.get(row.workspace_id) or WorkspaceSnapshot(id=row.workspace_id)
        ctx = Context(now=now, contact=cw.snapshot, workspace=wsnap, new_id=ids)
        waiting = [r.state for r in cw.runs.values() if r.state.status == RunStatus.WAITING]
        # Runs that ended earlier in this batch count as past runs for re-entry.
        past = cw.past + [
            PastRun(flow_id=r.state.flow_id, count=1, last_ended_at=r.state.updated_at)
            for r in cw.runs.values() if r.state.status != RunStatus.WAITING
        ]
        versions = {
            (r.state.flow_id, r.state.flow_version): r.document for r in cw.runs.values()
        }
        try:
            plan = self.engine.plan(
                input=inp, contact=cw.snapshot, waiting=waiting, past=past, flows=flows,
                versions=versions, now=now,
            )
            self._apply_plan(cw, row, inp, plan, ctx, ids, now, writes)
        except Exception as exc:  # an engine bug must not block the contact's queue forever
            log.exception("input_failed", input_id=row.id, contact_id=row.contact_id)
            _fail(writes, row, f"{type(exc).__name__}: {exc}")
            return
        if row.id is not None:  # a timer fired from its row has its lateness observed instead
            writes.done.append(row.id)
            lag = (now - row.created_at).total_seconds()
            metrics.INPUT_LAG.observe(max(lag, 0.0))

    def _apply_plan(
        self, cw: _ContactWork, row: Any, inp: Input, plan: Plan, ctx: Context, ids: _Ids,
        now: datetime, writes: _Writes,
    ) -> None:
        for run_id, reason in plan.interrupt:
            self._interrupt(cw, run_id, reason, row, inp, ctx, now, writes)
        for run_id in plan.resume:
            run = cw.runs.get(run_id)
            if run is None or run.state.status != RunStatus.WAITING:
                continue
            t0 = time.perf_counter()
            step = self.engine.resume(run.document, run.state, inp, ctx)
            self._record(cw, run, step.state, step.events, row, inp, now, writes, t0, ctx)
        for flow in plan.start:
            t0 = time.perf_counter()
            run_id = ids()
            step = self.engine.start(flow, run_id, inp, ctx)
            run = _Run(state=step.state, document=flow.document, is_new=True)
            cw.runs[step.state.run_id] = run
            self._record(cw, run, step.state, step.events, row, inp, now, writes, t0, ctx)

    def _interrupt(
        self, cw: _ContactWork, run_id: str, reason: str, row: Any, inp: Input, ctx: Context,
        now: datetime, writes: _Writes,
    ) -> None:
        run = cw.runs.get(run_id)
        if run is None or run.state.status != RunStatus.WAITING:
            return
        t0 = time.perf_counter()
        step = self.engine.interrupt(run.state, ctx, reason)
        self._record(cw, run, step.state, step.events, row, inp, now, writes, t0, ctx)

    def _record(
        self, cw: _ContactWork, run: _Run, state: RunState, events: list[Any], row: Any,
        inp: Input, now: datetime, writes: _Writes, t0: float, ctx: Context,
    ) -> None:
        if not events and not run.is_new and state == run.state:
            return  # the input did not concern this run (a stale timer, a foreign status)
        run.state, run.dirty = state, True
        ws, flow_id, version = cw.workspace_id, state.flow_id, state.flow_version
        errors: list[str] = []
        priority = _priority(inp)
        for ev in events:
            kind = ev.type
            if isinstance(ev, StepEntered):
                writes.counters[(ws, flow_id, version, ev.node_id, "")] += 1
            elif isinstance(ev, ExitTaken):
                writes.counters[(ws, flow_id, version, ev.node_id, ev.exit)] += 1
            elif isinstance(ev, WaitStarted):
                if ev.timer_id and ev.due_at is not None:
                    writes.timers.append({
                        "workspace_id": ws, "contact_id": cw.contact_id,
                        "run_id": state.run_id, "timer_id": ev.timer_id, "due_at": ev.due_at,
                    })
            elif isinstance(ev, TimerCancelled):
                writes.cancelled_timers.append(ev.timer_id)
            elif kind in OUTBOX_EVENTS:
                writes.outbox.append(_outbox_row(ev, ws, cw.contact_id, state.run_id, priority,
                                                 now))
                if kind == "handoff_requested":
                    # The pause starts now: the contact's next messages (later in this batch,
                    # or after this commit, before delivery opens the conversation) are the
                    # agent's, not the bot's.
                    cw.handed_over = True
                    writes.handoffs.append((cw.contact_id, row.id, writes.outbox[-1]))
            elif isinstance(ev, ContactUpdated):
                _merge_contact_update(cw, ev, now)
            elif isinstance(ev, FlowStartRequested):
                writes.new_inputs.append((ws, cw.contact_id, ManualStart(
                    source=f"flow:{flow_id}", params=ev.params, at=now, flow_id=ev.flow_id,
                )))
            elif isinstance(ev, RemoveFromFlowsRequested):
                for other in list(cw.runs.values()):
                    other_id = other.state.run_id
                    if other_id != state.run_id and (
                        not ev.flow_ids or other.state.flow_id in ev.flow_ids
                    ):
                        self._interrupt(cw, other_id, f"removed by flow {flow_id}", row,
                                        inp, ctx, now, writes)
            elif kind == "error":
                errors.append(f"{ev.node_id}: {ev.code}: {ev.message}")
            elif kind == "goal_reached":
                writes.goals.append((ws, cw.contact_id, {
                    "run_id": state.run_id, "flow_id": flow_id, "flow_version": version,
                    "contact_id": cw.contact_id, "node_id": ev.node_id,
                    "reached_at": now.isoformat(),
                }))
        writes.steps.append({
            "workspace_id": ws, "run_id": state.run_id, "input_id": row.id,
            "input_kind": row.kind, "node_id": state.node_id, "status": state.status.value,
            "input": row.payload,
            # The events themselves: serialized with the batch (see _flush).
            "output": list(events),
            "error": "; ".join(errors) or None, "at": now,
            "duration_us": int((time.perf_counter() - t0) * 1_000_000),
        })

    # ---------------------------------------------------------------- load

    def _load(self, session: Session, rows: list[Any]) -> dict[int, _ContactWork]:
        contact_ids = sorted({r.contact_id for r in rows})
        ws_of = {r.contact_id: r.workspace_id for r in rows}
        contacts = {
            c.id: c for c in session.execute(
                select(*_CONTACT_COLUMNS).where(id_in(session, _CONTACT.c.id, contact_ids))
            )
        }
        work = {
            cid: _ContactWork(
                contact_id=cid, workspace_id=ws_of[cid],
                snapshot=_snapshot(contacts[cid]) if cid in contacts else None,
            )
            for cid in contact_ids
        }
        # Waiting runs with their state; ended ones only as "ran this flow before" (their
        # states are not needed, and a long-time contact may have many).
        # The status is compared as an expression (``status || ''``) so that the planner
        # always goes through the contact index: with statistics taken while few runs
        # existed (a big segment start), PostgreSQL believed 'waiting' rare and scanned every
        # waiting run through the (workspace, flow, status) index for each batch, which made
        # a 100,000-contact start quadratic (the last batches took 0.5 s each instead of 20 ms).
        status = _RUN.c.status.op("||")(literal(""))
        waiting = session.execute(
            select(_RUN.c.id, _RUN.c.contact_id, _RUN.c.flow_id,
                   _RUN.c.flow_version, _RUN.c.state, _RUN.c.status,
                   _RUN.c.started_at, _RUN.c.updated_at)
            .where(id_in(session, _RUN.c.contact_id, contact_ids),
                   status == RunStatus.WAITING.value)
        ).all()
        self._ensure_versions(session, {(r.flow_id, r.flow_version) for r in waiting})
        for r in waiting:
            work[r.contact_id].runs[r.id] = _Run(
                state=unpack_state(r.state, run_id=r.id, flow_id=r.flow_id,
                                   flow_version=r.flow_version, contact_id=r.contact_id,
                                   status=r.status, started_at=r.started_at,
                                   updated_at=r.updated_at),
                document=self._versions.get((r.flow_id, r.flow_version), {}),
                is_new=False,
            )
        for contact_id, flow_id, count, last in session.execute(
            select(_RUN.c.contact_id, _RUN.c.flow_id, func.count(),
                   func.max(_RUN.c.updated_at))
            .where(id_in(session, _RUN.c.contact_id, contact_ids),
                   status != RunStatus.WAITING.value)
            .group_by(_RUN.c.contact_id, _RUN.c.flow_id)
        ):
            work[contact_id].past.append(PastRun(flow_id=flow_id, count=count,
                                                 last_ended_at=last))
        return work

    def _workspaces(self, session: Session, ids: set[int]) -> dict[int, WorkspaceSnapshot]:
        out = {}
        for ws in session.scalars(select(Workspace).where(Workspace.id.in_(sorted(ids)))):
            values = ws.settings.get("values", {}) if isinstance(ws.settings, dict) else {}
            out[ws.id] = WorkspaceSnapshot(
                id=ws.id, timezone=ws.timezone, country=ws.country,
                values=values if isinstance(values, dict) else {},
            )
        return out

    def _published(self, session: Session, ws_ids: set[int]) -> dict[int, list[PublishedFlow]]:
        rows = session.execute(
            select(Flow.id, Flow.workspace_id, Flow.published_version)
            .where(Flow.workspace_id.in_(sorted(ws_ids)), Flow.published_version.is_not(None),
                   Flow.enabled.is_(True), Flow.archived_at.is_(None))
        ).all()
        self._ensure_versions(session, {(r.id, r.published_version) for r in rows})
        out: dict[int, list[PublishedFlow]] = defaultdict(list)
        for r in rows:
            doc = self._versions.get((r.id, r.published_version))
            if doc is not None:
                out[r.workspace_id].append(PublishedFlow(r.id, r.published_version, doc))
        return out

    def _ensure_versions(self, session: Session, keys: set[tuple[int, int]]) -> None:
        missing = sorted(k for k in keys if k not in self._versions)
        if not missing:
            return
        for flow_id, number, document in session.execute(
            select(FlowVersion.flow_id, FlowVersion.number, FlowVersion.document)
            .where(tuple_(FlowVersion.flow_id, FlowVersion.number).in_(missing))
        ):
            # Versions are immutable, so caching them forever is safe.
            self._versions[(flow_id, number)] = document

    # ---------------------------------------------------------------- write

    def _persist_runs(self, session: Session, work: dict[int, _ContactWork]) -> None:
        new: list[dict[str, Any]] = []
        changed: list[dict[str, Any]] = []
        for cw in work.values():
            for run in cw.runs.values():
                if not run.dirty:
                    continue
                s = run.state
                values = {
                    "status": s.status.value, "state": pack_state(s),
                    "updated_at": s.updated_at,
                }
                if run.is_new:
                    new.append({
                        "id": s.run_id, "workspace_id": cw.workspace_id, "flow_id": s.flow_id,
                        "flow_version": s.flow_version, "contact_id": cw.contact_id,
                        "started_at": s.started_at, **values,
                    })
                else:
                    changed.append({"id": s.run_id, **values})
        table = _table(RuntimeRun)
        bulk.insert_rows(session, table, new)
        if changed:
            if bulk.is_postgres(session):
                # One statement joining the batch's rows (one JSON parameter) instead of an
                # executemany of N updates.
                bulk.update_rows(session, table, "id", changed)
            else:
                session.connection().execute(
                    update(table).where(table.c.id == bindparam("b_id")),
                    [{"b_id": c.pop("id"), **c} for c in changed],
                )

    def _persist_contacts(self, session: Session, work: dict[int, _ContactWork]) -> None:
        # Grouped by the set of changed columns so each group is one executemany.
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
        for cw in work.values():
            if cw.contact_changes:
                cols = tuple(sorted(cw.contact_changes))
                groups[cols].append({"b_id": cw.contact_id, **cw.contact_changes})
        table = cast(Table, Contact.__table__)
        for cols, rows in groups.items():
            session.connection().execute(
                update(table).where(table.c.id == bindparam("b_id"))
                .values({c: bindparam(c) for c in cols}),
                rows,
            )

    def _flush(self, session: Session, writes: _Writes) -> None:
        now = self.now()
        if writes.cancelled_timers:
            session.execute(
                delete(RuntimeTimer).where(RuntimeTimer.timer_id.in_(writes.cancelled_timers))
            )
        cancelled = set(writes.cancelled_timers)
        timers = [t for t in writes.timers if t["timer_id"] not in cancelled]
        bulk.insert_rows(session, _table(RuntimeTimer), timers)
        for contact_id, input_id, outbox_row in writes.handoffs:
            # Before this batch's inputs are marked done: unseen_from reads them as pending.
            # A timer fired straight from its row came after every input of its contact
            # (none was pending), so all of the contact's pending messages are unseen.
            outbox_row["payload"]["transcript_from_id"] = unseen_from(session, contact_id,
                                                                      input_id or 0)
        if writes.outbox:
            bulk.insert_rows(session, _table(OutboxItem), writes.outbox)
            notify_after_commit(session, OUTBOX_CHANNEL)
            metrics.OUTBOX_ENQUEUED.inc(len(writes.outbox))
        if writes.steps and not bulk.is_postgres(session):
            for step in writes.steps:
                step["output"] = [e.model_dump(mode="json") if isinstance(e, BaseModel) else e
                                  for e in step["output"]]
                if isinstance(step["input"], BaseModel):  # a timer fired from its row
                    step["input"] = step["input"].model_dump(mode="json")
        # On PostgreSQL the events go to JSON straight from the models, in pydantic-core,
        # with the rest of the batch (a dict per event first was a tenth of the CPU).
        bulk.insert_rows(session, _table(StepLogEntry), writes.steps)
        if writes.goals:
            from cauce.services.webhook_subscriptions import publish

            for ws, contact_id, data in writes.goals:
                publish(session, ws, "flow.goal_reached", data, now, contact_id=contact_id,
                        event_id=f"goal-{data['run_id']}")
        if writes.counters:
            self._add_counters(session, writes.counters)
        if writes.new_inputs:
            from cauce.runtime.ingest import submit_inputs

            submit_inputs(session, writes.new_inputs, now=now)
        if writes.done:
            if session.get_bind().dialect.name == "postgresql":
                # One array parameter instead of an IN list rendered with N parameters.
                session.execute(
                    text("UPDATE runtime_inputs SET status = :s, processed_at = :at "
                         "WHERE id = ANY(CAST(:ids AS bigint[]))"),
                    {"s": INPUT_DONE, "at": now, "ids": bulk.pg_ids(writes.done)},
                )
            else:
                session.execute(
                    update(RuntimeInput).where(RuntimeInput.id.in_(writes.done))
                    .values(status=INPUT_DONE, processed_at=now)
                )
        for input_id, error in writes.failed:
            session.execute(
                update(RuntimeInput).where(RuntimeInput.id == input_id)
                .values(status=INPUT_FAILED, processed_at=now, error=error[:2000])
            )
        if writes.failed_timers:
            # A timer that failed is kept as a failed input, visible as any other (rare: the
            # contact was deleted, or an engine bug).
            bulk.insert_rows(session, _table(RuntimeInput), [{
                "workspace_id": t.workspace_id, "contact_id": t.contact_id, "kind": t.kind,
                "payload": t.input.model_dump(mode="json"), "dedupe_key": None,
                "status": INPUT_FAILED,
                "created_at": now, "processed_at": now, "error": error[:2000],
            } for t, error in writes.failed_timers])

    def _add_counters(
        self, session: Session, counters: dict[tuple[int, int, int, str, str], int]
    ) -> None:
        rows = [
            {"workspace_id": ws, "flow_id": f, "flow_version": v, "node_id": n, "exit": e,
             "shard": self.shard, "count": c}
            for (ws, f, v, n, e), c in sorted(counters.items())
        ]
        dialect = session.get_bind().dialect.name
        ins: Any = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(FlowCounter)
        stmt = ins.on_conflict_do_update(
            index_elements=["flow_id", "flow_version", "node_id", "exit", "shard"],
            set_={"count": FlowCounter.count + ins.excluded.count},
        )
        session.execute(stmt, rows)


def _table(model: type[Any]) -> Table:
    """The Core table of a model: bulk inserts through Core skip the ORM's per-row work."""
    return cast(Table, model.__table__)


def _fail(writes: _Writes, row: Any, error: str) -> None:
    if isinstance(row, _FiredTimer):
        writes.failed_timers.append((row, error))
    else:
        writes.failed.append((row.id, error))


def _priority(inp: Input) -> int:
    if isinstance(inp, MessageIn):
        return PRIORITY_REPLY
    if isinstance(inp, ManualStart) and inp.source.startswith(_BROADCAST_SOURCES):
        return PRIORITY_BROADCAST
    return PRIORITY_NORMAL


def _outbox_row(
    ev: Any, workspace_id: int, contact_id: int, run_id: str, priority: int, now: datetime
) -> dict[str, Any]:
    key = getattr(ev, "key", None) or getattr(ev, "activity_id", None) or (
        f"{run_id}:{ev.node_id}:{ev.type}"
    )
    return {
        "workspace_id": workspace_id, "contact_id": contact_id, "run_id": run_id, "key": key,
        "kind": ev.type, "channel": str(getattr(ev, "channel", "") or getattr(ev, "target", "")),
        "payload": ev.model_dump(mode="json"), "priority": priority, "status": OUTBOX_PENDING,
        "attempts": 0, "uncertain": 0, "next_attempt_at": _wall_now(), "created_at": now,
        "updated_at": now,
    }


def _wall_now() -> datetime:
    # Delivery timing (leases, backoff, rate limits) is infrastructure and runs on the real
    # clock even when flows run on the virtual one.
    from datetime import UTC

    return datetime.now(UTC)


# Hot-path reads go through the Core tables, not the mapped classes: an ORM-enabled select
# costs an ORM compile step and ORM row loading per batch (~1/8 of a batch's CPU in the
# profile) for plain column tuples.
_INPUT = _table(RuntimeInput)
_RUN = _table(RuntimeRun)
_CONTACT = _table(Contact)
_CONTACT_COLUMNS = tuple(_CONTACT.c[name] for name in (
    "id", "phone", "email", "name", "first_name", "last_name", "language", "country",
    "timezone", "tags", "fields", "lead_score", "last_inbound_at", "opted_out_marketing",
))


def _lock_contacts(session: Session, contacts: set[int]) -> set[int]:
    """The contacts whose transaction-scoped lock this worker took (PostgreSQL: advisory
    try-locks, never waiting; SQLite: its single writer holds them all)."""
    if not bulk.is_postgres(session):
        return set(contacts)
    locked = set(session.scalars(
        text("SELECT c FROM unnest(CAST(:ids AS bigint[])) AS c "
             f"WHERE pg_try_advisory_xact_lock({CONTACT_LOCK_KEY})"),
        {"ids": bulk.pg_ids(sorted(contacts))},
    ).all())
    if len(locked) < len(contacts):
        metrics.LOCK_WAITS.inc(len(contacts) - len(locked))
    return locked


def _with_pending_inputs(session: Session, contacts: set[int]) -> set[int]:
    """Those of ``contacts`` with a pending input.

    One set query, not a probe per contact: when the statistics say pending inputs are rare
    (they are, between bursts), PostgreSQL answered a per-contact ``LIMIT 1`` probe through
    the queue index, each probe walking all of its not yet vacuumed entries (31 ms for 1,000
    contacts after a 20,000-input burst, against 0.1 ms for this form). At worst this reads
    the pending inputs once per batch."""
    return set(session.scalars(
        select(_INPUT.c.contact_id).distinct()
        .where(id_in(session, _INPUT.c.contact_id, contacts),
               _INPUT.c.status == literal_column(f"'{INPUT_PENDING}'"))
    ).all())


def _fired(timer: Any) -> _FiredTimer:
    return _FiredTimer(timer_row=timer.id, workspace_id=timer.workspace_id,
                       contact_id=timer.contact_id,
                       input=TimerFired(timer_id=timer.timer_id, fired_at=timer.due_at))


def _snapshot(c: Any) -> ContactSnapshot:
    return ContactSnapshot(
        id=c.id, phone=c.phone, email=c.email, name=c.name, first_name=c.first_name,
        last_name=c.last_name, language=c.language, country=c.country, timezone=c.timezone,
        tags=list(c.tags or []), fields=dict(c.fields or {}), lead_score=c.lead_score or 0,
        last_inbound_at=c.last_inbound_at, opted_out_marketing=bool(c.opted_out_marketing),
    )


_CORE_ATTRIBUTES = ("name", "first_name", "last_name", "email", "language", "country",
                    "timezone")


def _merge_contact_update(cw: _ContactWork, ev: ContactUpdated, now: datetime) -> None:
    """Apply a flow's contact change to the snapshot later inputs of this batch see, and
    remember the columns to write with the batch."""
    snap = cw.snapshot
    if snap is None:
        return
    changes: dict[str, Any] = {}
    tags = [t for t in snap.tags if t not in ev.remove_tags]
    tags += [t for t in ev.add_tags if t not in tags]
    if tags != snap.tags:
        changes["tags"] = tags
    fields = dict(snap.fields)
    for key, value in ev.fields.items():
        if key in _CORE_ATTRIBUTES:
            changes[key] = value
        else:
            fields[key] = value
    if fields != snap.fields:
        changes["fields"] = fields
    if ev.lead_score_delta:
        changes["lead_score"] = snap.lead_score + ev.lead_score_delta
    if ev.opt_out_marketing is not None:
        changes["opted_out_marketing"] = ev.opt_out_marketing
    if not changes:
        return
    cw.snapshot = snap.model_copy(update=changes)
    cw.contact_changes.update(changes)
    cw.contact_changes["updated_at"] = now
