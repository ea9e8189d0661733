"""Token buckets shared by every worker, kept in the database.

A bucket row is read and updated under a row lock inside the delivery claim transaction, so
any number of workers on any number of machines share one pace per channel and sending number.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from cauce.store.models.runtime import RateBucket


@dataclass(frozen=True)
class Grant:
    granted: int
    wait_seconds: float  # until the next token, when not everything was granted


def take(
    session: Session, key: str, *, rate: float, burst: float, want: int, now: datetime
) -> Grant:
    """Take up to ``want`` tokens from bucket ``key`` (refilled at ``rate`` per second, holding
    at most ``burst``)."""
    if want <= 0:
        return Grant(0, 0.0)
    dialect = session.get_bind().dialect.name
    ins: Any = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(RateBucket)
    session.execute(
        ins.values(key=key, tokens=burst, updated_at=now).on_conflict_do_nothing(
            index_elements=["key"]
        )
    )
    bucket = session.scalar(
        select(RateBucket).where(RateBucket.key == key).with_for_update()
    )
    assert bucket is not None
    # Workers' clocks are read before the row lock is taken, so a later transaction may
    # carry an earlier ``now``: the bucket's time never moves backwards (refill counted twice).
    now = max(now, bucket.updated_at)
    elapsed = (now - bucket.updated_at).total_seconds()
    tokens = min(burst, bucket.tokens + elapsed * rate)
    granted = min(want, math.floor(tokens))
    tokens -= granted
    bucket.tokens, bucket.updated_at = tokens, now
    wait = 0.0 if granted == want else max((1.0 - tokens) / rate, 0.001)
    return Grant(granted, wait)


class CircuitBreaker:
    """Per provider, per process: after ``threshold`` consecutive transient failures the
    circuit opens for ``cooldown`` seconds (nothing is sent), then lets one trial through."""

    def __init__(self, threshold: int = 5, cooldown: float = 30.0) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self._failures: dict[str, int] = {}
        self._open_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def open_for(self, provider: str) -> float:
        """Seconds until ``provider`` may be called again (0 when the circuit is closed)."""
        with self._lock:
            until = self._open_until.get(provider, 0.0)
            left = until - time.monotonic()
            if left <= 0 and until:
                # Half-open: the next caller is the trial; others wait for its outcome.
                self._open_until[provider] = time.monotonic() + self.cooldown
                return 0.0
            return max(left, 0.0)

    def success(self, provider: str) -> None:
        with self._lock:
            self._failures.pop(provider, None)
            self._open_until.pop(provider, None)

    def failure(self, provider: str) -> bool:
        """Count a transient failure; True when this one opened the circuit."""
        with self._lock:
            n = self._failures.get(provider, 0) + 1
            self._failures[provider] = n
            if n >= self.threshold and provider not in self._open_until:
                self._open_until[provider] = time.monotonic() + self.cooldown
                return True
            return False
