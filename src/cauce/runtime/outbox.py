"""Outbox rows: written in the transaction that decided the effect, delivered after commit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from cauce.store.models.runtime import (
    OUTBOX_DONE,
    OUTBOX_PENDING,
    OUTBOX_SENDING,
    OutboxItem,
)


def reconcile_status(session: Session, key: str, status: str, *, now: datetime) -> bool:
    """A provider status (``biz_opaque_callback_data`` echoes our key) proves the provider
    accepted the message: an attempt whose outcome we never recorded is settled as sent
    instead of being sent again. Returns whether a row was settled."""
    if not key or status not in ("sent", "delivered", "read"):
        return False
    result = session.execute(
        update(OutboxItem)
        .where(OutboxItem.key == key, OutboxItem.status.in_([OUTBOX_SENDING, OUTBOX_PENDING]),
               OutboxItem.attempts > 0)
        .values(status=OUTBOX_DONE, updated_at=now, last_error=None)
    )
    return bool(getattr(result, "rowcount", 0))
