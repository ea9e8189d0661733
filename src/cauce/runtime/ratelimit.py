"""Token buckets shared by every worker, kept in the database.

A bucket row is read and updated under a row lock inside the delivery claim transaction, so
any number of workers on any number of machines share one pace per channel and sending number.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
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
    circuit opens for ``cooldown`` seconds (nothing is sent), then lets one trial through: its
    success closes the circuit, its failure opens it for another ``cooldown``. While the trial
    is out, the provider's other rows wait ``trial_wait`` seconds, not a whole cool-down, so
    traffic resumes soon after a good trial.

    ``provider`` is the unit that fails together: a sender (one WhatsApp number, one SMS
    account) or one HTTP host, so one tenant's broken endpoint or throttled number does not stop
    everybody else's traffic."""

    def __init__(self, threshold: int = 5, cooldown: float = 30.0, trial_wait: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self.trial_wait = trial_wait
        self.clock = clock
        self._failures: dict[str, int] = {}
        self._open_until: dict[str, float] = {}
        self._trial: set[str] = set()
        self._lock = threading.Lock()

    def open_for(self, provider: str) -> float:
        """Seconds until ``provider`` may be called again (0 when the circuit is closed, or for
        the caller that gets to make the trial)."""
        with self._lock:
            until = self._open_until.get(provider)
            if until is None:
                return 0.0
            now = self.clock()
            left = until - now
            if left <= 0:
                # Half-open: this caller is the trial. If its outcome never comes (the process
                # died), the next trial starts a cool-down later.
                self._trial.add(provider)
                self._open_until[provider] = now + self.cooldown
                return 0.0
            return min(left, self.trial_wait) if provider in self._trial else left

    def success(self, provider: str) -> None:
        with self._lock:
            self._failures.pop(provider, None)
            self._open_until.pop(provider, None)
            self._trial.discard(provider)

    def failure(self, provider: str) -> bool:
        """Count a transient failure; True when this one opened (or re-opened) the circuit."""
        with self._lock:
            n = self._failures.get(provider, 0) + 1
            self._failures[provider] = n
            if provider in self._trial:
                self._trial.discard(provider)
                self._open_until[provider] = self.clock() + self.cooldown
                return True
            if n >= self.threshold and provider not in self._open_until:
                self._open_until[provider] = self.clock() + self.cooldown
                return True
            return False
