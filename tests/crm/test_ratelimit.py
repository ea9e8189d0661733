from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cauce.api.ratelimit import DatabaseCounter, Limit, RateLimiter
from cauce.store.db import make_engine
from cauce.store.models import RateLimitWindow
from tests.support.databases import PostgresSchema


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
    answers = [api.post("/webhooks/whatsapp", content=b"{}") for _ in range(3)]
    assert [a.status_code == 429 for a in answers] == [False, False, True]
    assert answers[2].headers["Retry-After"] == "20"
    assert answers[2].json()["error"]["code"] == "rate_limited"
    # Each webhook path has its own budget, and the API is not charged for webhooks.
    assert api.post("/webhooks/email/bounces", content=b"{}").status_code != 429
    assert api.get("/api/v1/contacts").status_code == 200
    clock.now += 20
    assert api.post("/webhooks/whatsapp", content=b"{}").status_code != 429


@pytest.mark.postgres
def test_postgres_counters_are_shared_and_written_in_batches(
    postgres_schema: PostgresSchema,
) -> None:
    """On PostgreSQL the counters are shared by every process (SQLite has one process and
    counts in its memory)."""
    engine = make_engine(postgres_schema.url)
    postgres_schema.reset(engine)
    ticks = FrozenTime()
    first, second = (DatabaseCounter(engine, clock=ticks) for _ in range(2))
    assert [first.hit("k", 60) for _ in range(3)] == [1, 2, 3]  # exact for its own hits
    assert _row(engine) == 1  # written on the first hit only; two are still in memory
    ticks.now += 2 * DatabaseCounter.FLUSH_SECONDS
    assert first.hit("k", 60) == 4 and _row(engine) == 4  # one statement added the three
    assert second.hit("k", 60) == 5  # another process sees them once written
    assert [first.hit("other", 60), second.hit("other", 120)] == [1, 1]  # keys and windows
    engine.dispose()


def _row(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(RateLimitWindow.count).where(
            RateLimitWindow.key == "k", RateLimitWindow.window_start == 60)) or 0)
