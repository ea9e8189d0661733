"""Server-side timing for ``bench_webhook.py --server-timing`` (a benchmark tool, not Cauce).

Python imports this module at start-up when its folder is first on ``PYTHONPATH``, which the
benchmark arranges for the ``cauce serve`` it starts. It wraps uvicorn and Cauce internals to
record, per webhook: when uvicorn received its bytes and when the answer was written; each
group-commit flush (and, on SQLite, how long it waited for the write lock); every garbage
collection pass; every event-loop stall over 3 ms, split with ``/proc/thread-self/schedstat``
into CPU the loop thread used, time it waited for a core, and the rest (mostly the GIL). All
times are ``time.perf_counter()`` (CLOCK_MONOTONIC, comparable with the clients'). Written as
JSON to ``$BENCH_TIMING_OUT`` once the load has been quiet for a second.
"""

from __future__ import annotations

import os

if os.environ.get("BENCH_TIMING_OUT"):
    import asyncio
    import gc
    import json
    import re
    import threading
    import time
    from typing import Any

    import starlette.applications
    import uvicorn.protocols.http.httptools_impl as uv

    import cauce.runtime.webhook_inbox as inbox
    import cauce.store.db as store_db

    _out = os.environ["BENCH_TIMING_OUT"]
    _now = time.perf_counter
    _wamid = re.compile(rb"BENCH\d+\.(\d+)")
    requests: dict[int, list[float]] = {}  # webhook number -> [received, answered]
    stalls: list[tuple[float, float, float, float]] = []  # at, stall, loop cpu, run queue
    passes: list[tuple[float, float, int]] = []  # at, seconds, generation
    flushes: list[tuple[float, float, int, float]] = []  # at, seconds, webhooks, lock wait
    _gc_started = [0.0]
    _lock_wait = threading.local()

    def _on_gc(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            _gc_started[0] = _now()
        else:
            passes.append((_gc_started[0], _now() - _gc_started[0], info["generation"]))

    gc.callbacks.append(_on_gc)

    _data_received = uv.HttpToolsProtocol.data_received
    _on_body = uv.HttpToolsProtocol.on_body
    _send = uv.RequestResponseCycle.send

    def data_received(self: Any, data: bytes) -> None:
        self._bench_received = _now()
        _data_received(self, data)

    def on_body(self: Any, body: bytes) -> None:
        found = _wamid.search(body)
        if found:
            requests[int(found.group(1))] = [self._bench_received, 0.0]
            self.scope["bench_webhook"] = int(found.group(1))
        _on_body(self, body)

    async def send(self: Any, message: Any) -> None:
        await _send(self, message)
        number = self.scope.get("bench_webhook")
        if message["type"] == "http.response.body" and number is not None \
                and not message.get("more_body"):
            requests[number][1] = _now()

    uv.HttpToolsProtocol.data_received = data_received  # type: ignore[method-assign]
    uv.HttpToolsProtocol.on_body = on_body  # type: ignore[method-assign]
    uv.RequestResponseCycle.send = send  # type: ignore[method-assign]

    _flush = inbox.GroupCommit._flush

    def flush(self: Any, batch: Any) -> None:
        started = _now()
        _lock_wait.seconds = 0.0
        _flush(self, batch)
        flushes.append((started, _now() - started, len(batch), _lock_wait.seconds))

    inbox.GroupCommit._flush = flush  # type: ignore[method-assign]

    _begin = store_db._SqliteWriter.begin

    def begin(self: Any, conn: Any) -> None:
        started = _now()
        _begin(self, conn)
        _lock_wait.seconds = _now() - started

    store_db._SqliteWriter.begin = begin  # type: ignore[method-assign]

    def _dump() -> None:
        with open(_out, "w") as file:
            json.dump({"requests": requests, "stalls": stalls, "passes": passes,
                       "flushes": flushes}, file)

    def _schedstat() -> tuple[int, int]:
        with open("/proc/thread-self/schedstat") as file:
            cpu, waited, _ = map(int, file.read().split())
        return cpu, waited

    async def _watch() -> None:
        dumped = 0
        while True:
            at = _now()
            cpu, waited = _schedstat()
            await asyncio.sleep(0.002)
            stall = _now() - at - 0.002
            if stall > 0.003:
                cpu_after, waited_after = _schedstat()
                stalls.append((at, stall, (cpu_after - cpu) / 1e9, (waited_after - waited) / 1e9))
            last = max((max(r) for r in list(requests.values())[-5:]), default=0.0)
            if len(requests) != dumped and _now() - last > 1.0:
                dumped = len(requests)
                _dump()

    _call = starlette.applications.Starlette.__call__
    _watching: list[asyncio.Task[None]] = []

    async def call(self: Any, scope: Any, receive: Any, send: Any) -> None:
        if not _watching:
            _watching.append(asyncio.get_running_loop().create_task(_watch()))
        await _call(self, scope, receive, send)

    starlette.applications.Starlette.__call__ = call  # type: ignore[method-assign]
