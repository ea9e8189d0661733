"""Prometheus metrics of the runtime (served at ``/metrics``).

Counters and histograms are per process (each worker exposes its own, as Prometheus expects);
gauges that describe shared state (outbox depth, timers due) are read from the database when
``/metrics`` is scraped, see :func:`collect_gauges`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cauce.store.models.runtime import (
    INPUT_FAILED,
    INPUT_PENDING,
    OUTBOX_DEAD,
    OUTBOX_PENDING,
    OUTBOX_SENDING,
    InboundWebhook,
    OutboxItem,
    RuntimeInput,
    RuntimeTimer,
)

INPUTS_PROCESSED = Counter("cauce_inputs_processed", "Inputs processed")
INPUTS_FAILED = Counter("cauce_inputs_failed", "Inputs that failed to process")
INPUT_LAG = Histogram(
    "cauce_input_lag_seconds", "From an input's arrival to its processing",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
BATCH_SECONDS = Histogram("cauce_batch_seconds", "Time to decide one batch of inputs")
LOCK_WAITS = Counter(
    "cauce_contact_lock_waits", "Contacts skipped because another worker held their lock"
)
TIMERS_FIRED = Counter("cauce_timers_fired", "Timers fired (processed at once or queued as inputs)")
TIMER_LATENESS = Histogram(
    "cauce_timer_lateness_seconds", "How late timers fired after their due time",
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600),
)
OUTBOX_ENQUEUED = Counter("cauce_outbox_enqueued", "Effects written to the outbox")
SENDS = Counter("cauce_sends", "Delivery attempts by channel and outcome", ["channel", "status"])
RETRIES = Counter("cauce_delivery_retries", "Delivery attempts scheduled for retry", ["channel"])
DEAD_LETTERS = Counter("cauce_dead_letters", "Effects moved to dead letters", ["channel"])
RATE_LIMITED = Counter("cauce_rate_limited", "Sends deferred by a rate limit", ["bucket"])
CIRCUIT_OPEN = Counter("cauce_circuit_open",
                       "Times a provider's circuit opened (label: the provider kind)", ["provider"])

OUTBOX_DEPTH = Gauge("cauce_outbox_depth", "Outbox rows by status", ["status"])
INPUTS_PENDING = Gauge("cauce_inputs_pending", "Inputs waiting to be processed")
INPUTS_OLDEST = Gauge("cauce_inputs_oldest_seconds", "Age of the oldest pending input")
TIMERS_DUE = Gauge("cauce_timers_due", "Timers due now and not yet fired")
TIMERS_WAITING = Gauge("cauce_timers_waiting", "Timers in the future")
WEBHOOKS_PARSED = Counter("cauce_webhooks_parsed", "Stored webhooks parsed, by outcome",
                          ["outcome"])
WEBHOOKS_PENDING = Gauge("cauce_webhooks_pending", "Webhooks stored and not parsed yet")
WEBHOOKS_OLDEST = Gauge("cauce_webhooks_oldest_seconds", "Age of the oldest unparsed webhook")
WEBHOOKS_FAILED = Gauge("cauce_webhooks_failed", "Stored webhooks that could not be parsed "
                        "(kept 7 days with the reason)")


def collect_gauges(session: Session, now: datetime) -> None:
    """Refresh the gauges that describe shared state from the database."""
    for status in (OUTBOX_PENDING, OUTBOX_SENDING, OUTBOX_DEAD):
        n = session.scalar(select(func.count()).where(OutboxItem.status == status)) or 0
        OUTBOX_DEPTH.labels(status).set(n)
    pending = session.execute(
        select(func.count(), func.min(RuntimeInput.created_at))
        .where(RuntimeInput.status == INPUT_PENDING)
    ).one()
    INPUTS_PENDING.set(pending[0] or 0)
    oldest = pending[1]
    INPUTS_OLDEST.set((datetime.now(UTC) - oldest).total_seconds() if oldest else 0.0)
    waiting = session.execute(
        select(func.count(), func.min(InboundWebhook.received_at))
        .where(InboundWebhook.status == INPUT_PENDING)
    ).one()
    WEBHOOKS_PENDING.set(waiting[0] or 0)
    WEBHOOKS_OLDEST.set((datetime.now(UTC) - waiting[1]).total_seconds() if waiting[1] else 0.0)
    WEBHOOKS_FAILED.set(session.scalar(
        select(func.count()).where(InboundWebhook.status == INPUT_FAILED)) or 0)
    due = session.scalar(select(func.count()).where(RuntimeTimer.due_at <= now)) or 0
    TIMERS_DUE.set(due)
    total = session.scalar(select(func.count()).select_from(RuntimeTimer)) or 0
    TIMERS_WAITING.set(total - due)
