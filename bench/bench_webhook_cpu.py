"""CPU per WhatsApp webhook of the API app itself, measured in-process: the ASGI app is driven
directly (no HTTP client or server in the measurement) with signed inbound-message webhooks,
``CONCURRENCY`` in flight, access log on at INFO on stderr (LVL=WARNING turns it off).
Counts ``time.process_time()`` of this process: routing, middlewares, signature check, the
group commit's database client side; not uvicorn's protocol nor the database server.

Usage: python bench/bench_webhook_cpu.py [sqlite|postgres [N]] 2>/dev/null
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from typing import Any

import bench_webhook as bw
import uvloop
from _runtime_common import Db
from tests.support.fakes.graph_api import FakeGraphApi

from cauce.api.app import create_app
from cauce.channels.whatsapp.webhook import sign
from cauce.logging import configure_logging
from cauce.settings import LogFormat

CONCURRENCY = 50
WARM_UP = 200


def main() -> None:
    kind = sys.argv[1] if len(sys.argv) > 1 else "postgres"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 3000
    db = Db(kind)
    graph = FakeGraphApi().start()
    try:
        bw._setup(db, graph.url)
        bodies = [bw._body(i) for i in range(n + WARM_UP)]
        signatures = [sign(body, bw.APP_SECRET).encode() for body in bodies]
        configure_logging(LogFormat.JSON, os.environ.get("LVL", "INFO"))
        app = create_app(db.cauce.settings, cauce=db.cauce)
        statuses: list[int] = []

        async def one(i: int) -> None:
            body = bodies[i]
            scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                     "method": "POST", "scheme": "http", "path": "/webhooks/whatsapp",
                     "raw_path": b"/webhooks/whatsapp", "query_string": b"", "root_path": "",
                     "client": ("127.0.0.1", 1234), "server": ("127.0.0.1", 8000),
                     "headers": [(b"host", b"bench"), (b"content-type", b"application/json"),
                                 (b"content-length", str(len(body)).encode()),
                                 (b"x-hub-signature-256", signatures[i])]}
            sent = False

            async def receive() -> dict[str, Any]:
                nonlocal sent
                if not sent:
                    sent = True
                    return {"type": "http.request", "body": body, "more_body": False}
                await asyncio.Event().wait()
                return {"type": "http.disconnect"}

            async def send(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    statuses.append(message["status"])

            await app(scope, receive, send)  # type: ignore[arg-type]

        async def run() -> None:
            async with app.router.lifespan_context(app):
                await asyncio.gather(*(one(i) for i in range(n, n + WARM_UP)))
                statuses.clear()
                gate = asyncio.Semaphore(CONCURRENCY)

                async def limited(i: int) -> None:
                    async with gate:
                        await one(i)

                cpu, wall = time.process_time(), time.perf_counter()
                await asyncio.gather(*(limited(i) for i in range(n)))
                cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            assert statuses.count(200) == n, set(statuses)
            print(f"{kind}: {n} webhooks, {CONCURRENCY} in flight: "
                  f"CPU {1000 * cpu / n:.3f} ms/webhook, wall {wall:.1f} s (load "
                  f"{os.getloadavg()[0]:.1f})", file=sys.__stdout__)

        uvloop.run(run())
    finally:
        graph.stop()
        db.close()


if __name__ == "__main__":
    main()
