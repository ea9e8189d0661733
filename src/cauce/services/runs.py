"""Use cases over the runtime: inspect runs and their step log, dead letters, funnels, and
the virtual clock."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from cauce.services.container import Cauce
from cauce.services.errors import Conflict, Invalid, NotFound
from cauce.services.pagination import Page, check_limit, paginate
from cauce.store.models.messages import Message
from cauce.store.models.runtime import (
    OUTBOX_DEAD,
    OUTBOX_PENDING,
    FlowCounter,
    OutboxItem,
    RuntimeRun,
    StepLogEntry,
)

RUN_STATUSES = ("waiting", "completed", "failed", "interrupted")
MAX_STEP_LOG = 1000


@dataclass(frozen=True)
class RunDetail:
    run: RuntimeRun
    steps: list[StepLogEntry]


def list_runs(
    session: Session, workspace_id: int, *, flow_id: int | None = None,
    contact_id: int | None = None, status: str | None = None, limit: int | None = None,
    cursor: str | None = None,
) -> Page[RuntimeRun]:
    """Runs of the workspace, newest first, filtered by flow, contact and status."""
    size = check_limit(limit)
    if status is not None and status not in RUN_STATUSES:
        raise Invalid(f"status: one of {', '.join(RUN_STATUSES)}", field="status")
    stmt = select(RuntimeRun).where(RuntimeRun.workspace_id == workspace_id)
    if flow_id is not None:
        stmt = stmt.where(RuntimeRun.flow_id == flow_id)
    if contact_id is not None:
        stmt = stmt.where(RuntimeRun.contact_id == contact_id)
    if status is not None:
        stmt = stmt.where(RuntimeRun.status == status)
    if cursor:
        started, run_id = _decode_run_cursor(cursor)
        stmt = stmt.where(or_(
            RuntimeRun.started_at < started,
            and_(RuntimeRun.started_at == started, RuntimeRun.id < run_id),
        ))
    rows = list(session.scalars(
        stmt.order_by(RuntimeRun.started_at.desc(), RuntimeRun.id.desc()).limit(size + 1)
    ))
    more = len(rows) > size
    rows = rows[:size]
    next_cursor = _encode_run_cursor(rows[-1]) if more and rows else None
    return Page(items=rows, next_cursor=next_cursor)


def _encode_run_cursor(run: RuntimeRun) -> str:
    raw = f"{run.started_at.isoformat()}|{run.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_run_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        started, run_id = raw.split("|", 1)
        return datetime.fromisoformat(started), run_id
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise Invalid("cursor: use the next_cursor of a previous page", field="cursor") from None


def get_run(session: Session, workspace_id: int, run_id: str) -> RunDetail:
    """A run with its step log (oldest first)."""
    run = session.get(RuntimeRun, run_id)
    if run is None or run.workspace_id != workspace_id:
        raise NotFound(f"run '{run_id}' not found")
    steps = list(session.scalars(
        select(StepLogEntry).where(StepLogEntry.run_id == run_id)
        .order_by(StepLogEntry.id).limit(MAX_STEP_LOG)
    ))
    return RunDetail(run=run, steps=steps)


def list_dead_letters(
    session: Session, workspace_id: int, *, limit: int | None = None,
    cursor: str | None = None,
) -> Page[OutboxItem]:
    """Effects that failed for good (or ran out of retries), with the reason."""
    stmt = select(OutboxItem).where(OutboxItem.workspace_id == workspace_id,
                                    OutboxItem.status == OUTBOX_DEAD)
    page: Page[OutboxItem] = paginate(session, stmt, OutboxItem.id, limit, cursor)
    return page


def retry_dead_letter(
    session: Session, workspace_id: int, item_id: int, now: datetime | None = None
) -> OutboxItem:
    """Send a dead letter again (from scratch: its attempts start over). ``now`` is wall-clock
    time: delivery timing never follows the virtual clock."""
    from cauce.runtime.wakeup import OUTBOX_CHANNEL, notify_after_commit

    now = now or datetime.now(UTC)
    item = session.get(OutboxItem, item_id)
    if item is None or item.workspace_id != workspace_id:
        raise NotFound(f"dead letter {item_id} not found")
    if item.status != OUTBOX_DEAD:
        raise Conflict(f"outbox item {item_id} is '{item.status}', not a dead letter; only dead "
                       "letters can be retried")
    session.execute(
        update(OutboxItem).where(OutboxItem.id == item_id)
        .values(status=OUTBOX_PENDING, attempts=0, next_attempt_at=now, updated_at=now,
                last_error=None, last_error_code=None)
    )
    if item.kind == "message_requested":
        # The conversation log shows the message as failed; it is queued again (Cauce has no
        # accepted send on record for a dead letter), so its next outcome is the one to show.
        session.execute(
            update(Message).where(Message.workspace_id == workspace_id,
                                  Message.key == item.key, Message.direction == "out")
            .values(status="queued", failed_at=None, error_code=None, error_reason=None)
        )
    session.refresh(item)
    notify_after_commit(session, OUTBOX_CHANNEL)
    return item


def flow_counters(
    session: Session, workspace_id: int, flow_id: int, version: int | None = None
) -> dict[str, dict[str, int]]:
    """Per node: ``{"entered": n, "<exit>": n, ...}`` for one flow (one version or all)."""
    stmt = (
        select(FlowCounter.node_id, FlowCounter.exit, func.sum(FlowCounter.count))
        .where(FlowCounter.workspace_id == workspace_id, FlowCounter.flow_id == flow_id)
        .group_by(FlowCounter.node_id, FlowCounter.exit)
    )
    if version is not None:
        stmt = stmt.where(FlowCounter.flow_version == version)
    out: dict[str, dict[str, int]] = {}
    for node_id, exit_name, count in session.execute(stmt):
        out.setdefault(node_id, {})[exit_name or "entered"] = int(count or 0)
    return out


@dataclass(frozen=True)
class ClockState:
    mode: str
    now: datetime
    timers_fired: int = 0


def clock_state(cauce: Cauce) -> ClockState:
    from cauce.clock import VirtualClock
    from cauce.runtime.simclock import sync_virtual

    if isinstance(cauce.clock, VirtualClock):
        with cauce.transaction() as session:
            now = sync_virtual(session, cauce.clock)
        return ClockState(mode="virtual", now=now)
    return ClockState(mode="real", now=cauce.clock.now())


def advance_clock(cauce: Cauce, seconds: float) -> ClockState:
    """Move the virtual clock forward, firing every timer due in between in order and
    processing what they cause before returning. Refused (409) on the real clock."""
    from cauce.runtime.engine_port import default_engine
    from cauce.runtime.processor import Processor
    from cauce.runtime.simclock import advance, wait_until_drained

    engine: Any = cauce.extras.get("flow_engine") or default_engine()
    processor = Processor(cauce, engine)
    result = advance(cauce, seconds, lambda: wait_until_drained(cauce, processor.process_batch))
    return ClockState(mode="virtual", now=result.now, timers_fired=result.timers_fired)
