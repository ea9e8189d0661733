from __future__ import annotations

from fastapi.testclient import TestClient

from cauce.api.ratelimit import Limit, RateLimiter


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
