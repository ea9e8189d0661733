"""Request ids and the access log, as plain ASGI middleware (no BaseHTTPMiddleware overhead)."""

from __future__ import annotations

import itertools
import os
import time

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cauce.logging import get_logger

log = get_logger("cauce.http")
REQUEST_ID_HEADER = b"x-request-id"
# Generated ids: 16 random hex digits per process, then a counter (32 hex digits in all).
# Unique like a uuid4 but without an os.urandom call per request, which releases the GIL
# and, under load, waits for a worker thread to hand it back before the answer can go out.
_ids: list[tuple[str, itertools.count[int]]] = []


def _reseed() -> None:  # per process: a forked worker must not repeat its parent's ids
    _ids[:] = [(os.urandom(8).hex(), itertools.count(int.from_bytes(os.urandom(4), "big")))]


_reseed()
os.register_at_fork(after_in_child=_reseed)


def new_request_id() -> str:
    prefix, counter = _ids[0]
    return f"{prefix}{next(counter) & 0xFFFF_FFFF_FFFF_FFFF:016x}"


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(REQUEST_ID_HEADER, b"").decode("latin-1")
        request_id = incoming[:64] if incoming else new_request_id()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER, request_id.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            path = scope.get("path", "")
            if path not in ("/healthz", "/metrics"):
                log.info(
                    "request", method=scope.get("method"), path=path, status=status,
                    ms=round((time.perf_counter() - started) * 1000, 2),
                )
            structlog.contextvars.unbind_contextvars("request_id")
