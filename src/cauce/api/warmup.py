"""``cauce serve`` warms up before it accepts connections.

Left to itself, a fresh process pays for a lot on its first requests: a pooled database
connection opened, the WhatsApp app secrets loaded and decrypted, the webhook INSERT compiled,
the first worker thread started, Starlette's middleware stack and FastAPI's route tables built,
and FastAPI reading each endpoint's source file the first time it runs it. That was 25–160 ms
on the first webhook, and at 500 webhooks/s every request arriving meanwhile queued behind it.
uvicorn runs the app's lifespan, where this is called, before it opens its socket, so the
senders never see it.

Last, the heap is frozen (``gc.freeze``): what is loaded by then (modules, schemas, caches) is
never garbage, yet every full collection walked all of it: 200–740 ms with the event loop
stopped, once or twice per 5 s at 500 webhooks/s, in a ``cauce serve`` without the embedded
runtime (which froze it already).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import anyio.to_thread
from starlette.types import ASGIApp, Message, Scope

from cauce.logging import get_logger, quiet
from cauce.runtime.runner import freeze_startup_heap
from cauce.runtime.webhook_inbox import group_commit
from cauce.services.container import Cauce
from cauce.services.inbound import WhatsAppNumbers

log = get_logger(__name__)

# Requests sent through the app before it serves: each is answered without storing anything.
# The WhatsApp webhook runs its endpoint (unsigned: refused with 401 before any secret is
# looked at); the others are only routed (OPTIONS: 405).
WARM_REQUESTS = (("POST", "/webhooks/whatsapp"), ("OPTIONS", "/api/v1/workspace"),
                 ("OPTIONS", "/healthz"))


async def warm_up(app: ASGIApp, cauce: Cauce) -> None:
    """Pay the first-request costs now; then freeze what is loaded out of the GC's way."""
    started = time.perf_counter()
    await anyio.to_thread.run_sync(_warm_database, cauce)  # also starts the first thread
    failed: list[tuple[str, str]] = []
    with quiet():  # not traffic: no access log line, no "webhook rejected" warning
        for method, path in WARM_REQUESTS:
            try:
                await _request(app, method, path)
            except Exception as exc:
                failed.append((path, f"{type(exc).__name__}: {exc}"[:300]))
    for path, error in failed:
        log.warning("warm_up_failed", path=path, error=error)
    freeze_startup_heap()
    log.info("warmed_up", ms=round((time.perf_counter() - started) * 1000, 1))


def _warm_database(cauce: Cauce) -> None:
    try:
        WhatsAppNumbers.of(cauce).get()
        group_commit(cauce).warm_up(datetime.now(UTC))
    except Exception as exc:  # a cold first request is better than a server that won't start
        log.warning("warm_up_failed", error=f"{type(exc).__name__}: {exc}"[:300])


async def _request(app: ASGIApp, method: str, path: str) -> None:
    scope: Scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
        "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
        "root_path": "", "query_string": b"", "client": None, "server": None,
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"2")],
    }

    async def receive() -> Message:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(_message: Message) -> None:
        return None

    await app(scope, receive, send)
