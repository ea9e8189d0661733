"""Rate limits for the public API and the webhooks: 429 with ``Retry-After``.

Fixed windows per caller: ``API_RATE_LIMIT`` requests per ``API_RATE_WINDOW`` seconds per
credential (API key, session cookie, or client address when anonymous) under ``/api/``, and
``WEBHOOK_RATE_LIMIT`` per window per webhook path under ``/webhooks/``.

Where the counters live, honestly:
- **PostgreSQL** (scale-out): one row per (caller, window) in ``rate_limit_windows``, bumped
  with ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``, so every ``cauce serve`` process on
  every machine shares one count. Each process adds its hits to the rows every 100 ms (one
  statement for every key), so other processes' hits count within 100 ms and a request never
  waits for a hot row.
- **SQLite** (embedded): only one process can serve a SQLite file, so the counters are kept in
  that process's memory; a write per request would serialise every read behind SQLite's single
  writer for nothing.
A fixed window lets a caller burst up to twice the limit across a window edge; that is the
accepted price of a single-row, lock-free counter.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import anyio
from sqlalchemy import Engine, delete
from sqlalchemy.dialects import postgresql
from starlette.types import ASGIApp, Receive, Scope, Send

from cauce.api.errors import error_json
from cauce.store.models import RateLimitWindow

API_RATE_LIMIT = 1200
API_RATE_WINDOW = 60
WEBHOOK_RATE_LIMIT = 120_000  # 2,000/s: above the 500 messages/s a busy number may send
WEBHOOK_RATE_WINDOW = 60


@dataclass(frozen=True)
class Limit:
    requests: int
    window: int  # seconds


class MemoryCounter:
    """Counters for one process (SQLite deployments, tests)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, int], int] = {}

    def hit(self, key: str, window_start: int) -> int:
        with self._lock:
            if len(self._counts) > 100_000:  # forget closed windows
                self._counts = {k: v for k, v in self._counts.items() if k[1] >= window_start}
            count = self._counts.get((key, window_start), 0) + 1
            self._counts[(key, window_start)] = count
            return count


class DatabaseCounter:
    """Counters shared by every process through PostgreSQL.

    Hits are counted in memory and added to the shared rows every ``FLUSH_SECONDS`` (one
    ``INSERT ... ON CONFLICT DO UPDATE`` for all keys touched meanwhile), not one write per
    request: a write per request made every webhook wait for the same hot row's lock. A
    process's own hits are always counted exactly; other processes' hits are seen within
    ``FLUSH_SECONDS``.
    """

    FLUSH_SECONDS = 0.1

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.monotonic) -> None:
        self.engine = engine
        self.clock = clock
        self._lock = threading.Lock()
        self._pending: dict[tuple[str, int], int] = {}
        self._shared: dict[tuple[str, int], int] = {}  # the rows' counts at the last flush
        self._flushed_at = -1e18
        self._flushing = False
        self._last_sweep = 0

    def flush_due(self) -> bool:
        return not self._flushing and self.clock() - self._flushed_at >= self.FLUSH_SECONDS

    def hit(self, key: str, window_start: int) -> int:
        with self._lock:
            k = (key, window_start)
            self._pending[k] = self._pending.get(k, 0) + 1
            estimate = self._shared.get(k, 0) + self._pending[k]
            flush = self.flush_due()
            if flush:
                self._flushing = True
        if flush:
            try:
                self._flush(window_start)
            finally:
                with self._lock:
                    self._flushing = False
            with self._lock:
                estimate = max(estimate, self._shared.get(k, 0) + self._pending.get(k, 0))
        return estimate

    def _flush(self, window_start: int) -> None:
        with self._lock:
            batch, self._pending = self._pending, {}
            self._flushed_at = self.clock()
        if not batch:
            return
        insert = postgresql.insert(RateLimitWindow)
        stmt = insert.on_conflict_do_update(
            index_elements=["key", "window_start"],
            set_={"count": RateLimitWindow.count + insert.excluded.count},
        ).returning(RateLimitWindow.key, RateLimitWindow.window_start, RateLimitWindow.count)
        rows = [{"key": k, "window_start": w, "count": n} for (k, w), n in sorted(batch.items())]
        try:
            with self.engine.begin() as conn:
                counts = conn.execute(stmt, rows).all()
                if window_start != self._last_sweep:
                    self._last_sweep = window_start
                    old = RateLimitWindow.window_start < window_start - 3600
                    conn.execute(delete(RateLimitWindow).where(old))
        except BaseException:
            with self._lock:  # not written: count these hits again next time
                for k, n in batch.items():
                    self._pending[k] = self._pending.get(k, 0) + n
            raise
        with self._lock:
            self._shared = {k: v for k, v in self._shared.items() if k[1] >= window_start}
            for key, start, count in counts:
                self._shared[(key, start)] = int(count)


class RateLimiter:
    def __init__(
        self, api: Limit | None = None, webhook: Limit | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.api = api or Limit(API_RATE_LIMIT, API_RATE_WINDOW)
        self.webhook = webhook or Limit(WEBHOOK_RATE_LIMIT, WEBHOOK_RATE_WINDOW)
        self.clock = clock
        self.memory = MemoryCounter()
        self._db: DatabaseCounter | None = None

    def counter_for(self, engine: Engine) -> MemoryCounter | DatabaseCounter:
        if engine.dialect.name != "postgresql":
            return self.memory
        if self._db is None or self._db.engine is not engine:
            self._db = DatabaseCounter(engine)
        return self._db

    def check(
        self, engine: Engine, key: str, limit: Limit
    ) -> tuple[bool, int]:
        """``(allowed, retry_after_seconds)`` for one more request of ``key``."""
        now = self.clock()
        window_start = int(now // limit.window * limit.window)
        count = self.counter_for(engine).hit(f"{key}:{limit.window}", window_start)
        if count <= limit.requests:
            return True, 0
        return False, max(1, int(window_start + limit.window - now + 0.999))


def _credential(scope: Scope) -> str:
    headers = dict(scope.get("headers") or [])
    cred = headers.get(b"authorization") or headers.get(b"x-api-key")
    if not cred:
        for part in headers.get(b"cookie", b"").split(b";"):
            name, _, value = part.strip().partition(b"=")
            if name == b"cauce_session" and value:
                cred = value
                break
    if cred:
        return "cred:" + hashlib.sha256(cred).hexdigest()[:24]
    client = scope.get("client") or ("unknown", 0)
    return f"ip:{client[0]}"


class RateLimitMiddleware:
    """Plain ASGI middleware; the limiter is ``app.state.rate_limiter`` so tests can tune it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        state = scope["app"].state
        limiter: RateLimiter | None = getattr(state, "rate_limiter", None)
        cauce = getattr(state, "cauce", None)
        if limiter is None or cauce is None:
            await self.app(scope, receive, send)
            return
        if path.startswith("/api/"):
            key, limit = "api:" + _credential(scope), limiter.api
        elif path.startswith("/webhooks/"):
            key, limit = "webhook:" + path[:200], limiter.webhook
        else:
            await self.app(scope, receive, send)
            return
        counter = limiter.counter_for(cauce.engine)
        if isinstance(counter, DatabaseCounter) and counter.flush_due():
            allowed, retry_after = await anyio.to_thread.run_sync(
                limiter.check, cauce.engine, key, limit
            )
        else:  # counted in memory: no thread, no I/O
            allowed, retry_after = limiter.check(cauce.engine, key, limit)
        if not allowed:
            response = error_json(
                429, "rate_limited",
                f"too many requests: at most {limit.requests} per {limit.window} s; "
                f"retry in {retry_after} s",
                headers={"Retry-After": str(retry_after)},
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
