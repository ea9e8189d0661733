from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from cauce.api.ratelimit import DatabaseCounter, Limit, RateLimiter
from cauce.services.container import Cauce
from cauce.store.models import RateLimitWindow


class FrozenTime:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_api_rate_limit_answers_429_with_retry_after(api: TestClient) -> None:
    clock = FrozenTime()
    api.app.state.rate_limiter = RateLimiter(api=Limit(3, 60), clock=clock)  # type: ignore[attr-defined]
    assert [api.get("/api/v1/contacts").status_code for _ in range(3)] == [200, 200, 200]
    res = api.get("/api/v1/contacts")
    assert res.status_code == 429
    assert res.json()["error"]["code"] == "rate_limited"
    assert res.headers["Retry-After"] == "20"  # 1_000_000 is 40 s into its minute
    # another credential has its own budget
    anon = TestClient(api.app)
    assert anon.get("/api/v1/contacts").status_code == 401
    clock.now += 20
    assert api.get("/api/v1/contacts").status_code == 200
    # probes are never limited
    assert all(api.get("/healthz").status_code == 200 for _ in range(5))


def test_webhook_paths_are_limited_per_path(api: TestClient) -> None:
    clock = FrozenTime()
    api.app.state.rate_limiter = RateLimiter(webhook=Limit(2, 60), clock=clock)  # type: ignore[attr-defined]
    codes = [api.post("/webhooks/nowhere").status_code for _ in range(3)]
    assert codes[2] == 429 and codes[0] != 429


def test_postgres_counters_are_shared_and_written_in_batches(cauce: Cauce) -> None:
    if cauce.engine.dialect.name != "postgresql":
        pytest.skip("SQLite counts in the memory of its one process")
    ticks = FrozenTime()
    first, second = (DatabaseCounter(cauce.engine, clock=ticks) for _ in range(2))
    assert [first.hit("k", 60) for _ in range(3)] == [1, 2, 3]  # exact for its own hits
    assert _row(cauce) == 1  # written on the first hit only; two are still in memory
    ticks.now += 2 * DatabaseCounter.FLUSH_SECONDS
    assert first.hit("k", 60) == 4 and _row(cauce) == 4  # one statement added the three
    assert second.hit("k", 60) == 5  # another process sees them once written
    assert [first.hit("other", 60), second.hit("other", 120)] == [1, 1]  # keys and windows


def _row(cauce: Cauce) -> int:
    with cauce.transaction() as session:
        return int(session.scalar(select(RateLimitWindow.count).where(
            RateLimitWindow.key == "k", RateLimitWindow.window_start == 60)) or 0)
