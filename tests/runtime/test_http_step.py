"""The flow's HTTP request step against a real server on loopback: the response-size cap, the
timeout, redirects not followed, and which answers are retried."""

from __future__ import annotations

import threading

from cauce import limits
from cauce.runtime.http_step import perform
from tests.runtime.fake_http import json_answer, serve

ALLOWED = ["127.0.0.1"]


def test_a_response_over_the_cap_fails_without_being_read_whole() -> None:
    big = b"x" * (limits.HTTP_STEP_MAX_RESPONSE_BYTES + 1)
    with serve(lambda _m, _p, _b: (200, {"content-type": "text/plain"}, big)) as (url, _):
        result = perform("GET", f"{url}/export", {}, None, 5.0, ALLOWED)
    assert not result.ok and not result.retryable
    assert result.error == f"response larger than {limits.HTTP_STEP_MAX_RESPONSE_BYTES} bytes"
    just = b"y" * limits.HTTP_STEP_MAX_RESPONSE_BYTES
    with serve(lambda _m, _p, _b: (200, {"content-type": "text/plain"}, just)) as (url, _):
        result = perform("GET", url, {}, None, 5.0, ALLOWED)
    assert result.ok and result.data["text"] == just.decode()


def test_a_server_that_does_not_answer_in_time_is_a_retryable_timeout() -> None:
    release = threading.Event()

    def stall(_m: str, _p: str, _b: bytes) -> tuple[int, dict[str, str], bytes]:
        release.wait(10)
        return 200, {}, b"{}"

    with serve(stall) as (url, recorder):
        result = perform("POST", url, {"content-type": "application/json"}, '{"a": 1}', 0.3,
                         ALLOWED)
        release.set()
    assert not result.ok and result.retryable
    assert result.error == "no answer within 0.3 s"
    assert recorder.requests == [("POST", "/", b'{"a": 1}')]


def test_the_timeout_is_capped_whatever_the_flow_asks() -> None:
    release = threading.Event()

    def stall(_m: str, _p: str, _b: bytes) -> tuple[int, dict[str, str], bytes]:
        release.wait(10)
        return 200, {}, b"{}"

    with serve(stall) as (url, _):
        result = perform("GET", url, {}, None, 0.0, ALLOWED)  # below the floor: 0.1 s
        release.set()
    assert result.error == "no answer within 0.1 s"


def test_answers_redirects_and_retries() -> None:
    with serve(lambda _m, _p, _b: (302, {"location": "http://10.0.0.1/"}, b"")) as (url, rec):
        moved = perform("GET", url, {}, None, 5.0, ALLOWED)
    # Not followed: a redirect could point at a private address the check never saw.
    assert (moved.ok, moved.status, moved.retryable, len(rec.requests)) == (False, 302, False, 1)
    with serve(json_answer(404, {"error": "no such order"})) as (url, _):
        missing = perform("GET", url, {}, None, 5.0, ALLOWED)
    assert (missing.ok, missing.retryable, missing.error) == (False, False, "HTTP 404")
    assert missing.data["json"] == {"error": "no such order"}
    with serve(json_answer(429, {}, {"Retry-After": "7"})) as (url, _):
        busy = perform("GET", url, {}, None, 5.0, ALLOWED)
    assert (busy.retryable, busy.retry_after) == (True, 7.0)
    with serve(json_answer(502, {})) as (url, _):
        down = perform("GET", url, {}, None, 5.0, ALLOWED)
    assert down.retryable and down.retry_after is None
    with serve(json_answer(200, {"stock": 3})) as (url, rec):
        ok = perform("GET", f"{url}/stock?sku=A1", {"X-Shop": "1"}, None, 5.0, ALLOWED)
    assert ok.ok and ok.data == {"status": 200, "json": {"stock": 3}}
    assert rec.requests[0][:2] == ("GET", "/stock?sku=A1")


def test_a_refused_target_is_never_called() -> None:
    with serve(json_answer(200, {})) as (url, recorder):
        result = perform("GET", url, {}, None, 5.0, allowed_hosts=[])
    assert not result.ok and not result.retryable
    assert (result.error or "").startswith("refused: host '127.0.0.1' resolves to the non-public")
    assert recorder.requests == []
