"""Webhook answer latency under load: signed WhatsApp inbound-message webhooks posted to a real
``cauce serve`` (uvicorn, the API app) at a fixed rate, open loop. Each webhook is a new
message (its own wamid) from one of 1,000 senders: the route verifies the signature against
the cached app secrets, stores the raw body (group commit) and answers; the runtime parses it
into contact, message and input afterwards.

Modes: ``embedded`` (one ``cauce serve`` whose embedded runtime also parses what arrives, in
the same process) and ``split`` (``cauce serve`` without the runtime plus one ``cauce worker``
process, as in scale-out; PostgreSQL only).

The load comes from two client processes (keep-alive connections, one thread per in-flight
request); latency is measured from the moment a request is written to the moment its answer
is read. "late p99" says how far behind its schedule the generator fell: when it is large the
client, not the server, set the pace. "API CPU ms" is the CPU the answering process used per
webhook (with ``embedded``: including the parsing); "parsed +s" is how long after the last
answer the runtime had parsed every stored webhook.

Usage: python bench/bench_webhook.py [RATE [SECONDS [sqlite|postgres|postgres-split ...]]]
       (default 500 messages/s for 10 s, sqlite and postgres)
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from _runtime_common import ROOT, Db, table
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from tests.support.fakes.graph_api import FakeGraphApi

from cauce.api.app import create_app
from cauce.channels.whatsapp.webhook import sign
from cauce.services.workspaces import ensure_demo

APP_SECRET = "bench-app-secret"
PHONE_NUMBER_ID = "106540352242922"
SECRET_KEY = "bench-secret-key-0123456789"
SENDERS = 1000
CLIENTS = 2
TARGET_P99_MS = 25.0


def _body(i: int) -> bytes:
    sender = f"5491150{i % SENDERS:06d}"
    return json.dumps({"object": "whatsapp_business_account", "entry": [{
        "id": "102290129340398", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550783881",
                         "phone_number_id": PHONE_NUMBER_ID},
            "contacts": [{"profile": {"name": f"Cliente {i % SENDERS}"}, "wa_id": sender}],
            "messages": [{"from": sender, "id": f"wamid.BENCH{os.getpid()}.{i:08d}",
                          "timestamp": str(int(time.time())), "type": "text",
                          "text": {"body": "hola, ¿tienen stock?"}}]}}]}]}).encode()


def _client(port: int, rate: float, seconds: float, offset: int, start_at: float,
            out: Any) -> None:
    """One load process: requests ``offset, offset + CLIENTS, ...`` at their scheduled times."""
    n = int(rate * seconds)
    mine = list(range(offset, n, CLIENTS))
    bodies = {i: _body(i) for i in mine}
    signatures = {i: sign(bodies[i], APP_SECRET) for i in mine}
    lock = threading.Lock()
    queue = iter(mine)
    results: list[tuple[float, float, float, int]] = []  # (due, sent, done, status)

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                i = next(queue, None)
            if i is None:
                break
            due = start_at + i / rate
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            sent = time.perf_counter()
            try:
                conn.request("POST", "/webhooks/whatsapp", body=bodies[i], headers={
                    "Content-Type": "application/json",
                    "X-Hub-Signature-256": signatures[i]})
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                status = 0
            done = time.perf_counter()
            with lock:
                results.append((due, sent, done, status))
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.put(results)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _setup(db: Db, graph_url: str) -> None:
    with db.cauce.transaction() as session:
        creds = ensure_demo(session, db.cauce.clock.now())
    assert creds is not None
    app = create_app(db.cauce.settings, cauce=db.cauce)
    with TestClient(app) as api:
        api.headers["Authorization"] = f"Bearer {creds.api_key}"
        created = api.post("/api/v1/channels", json={
            "kind": "whatsapp", "name": "Ventas",
            "config": {"phone_number_id": PHONE_NUMBER_ID, "waba_id": "102290129340398",
                       "graph_base_url": graph_url, "graph_version": "v23.0"},
            "secrets": {"access_token": "EAAG-token", "app_secret": APP_SECRET,
                        "verify_token": "verify"}})
        assert created.status_code == 201, created.text


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _unparsed(db: Db) -> int:
    try:
        with db.cauce.transaction() as session:
            return int(session.scalar(text(
                "SELECT count(*) FROM inbound_webhooks WHERE status = 'pending'")) or 0)
    except DBAPIError:  # code from before the webhooks were stored raw: parsed in the request
        return 0


def run(mode: str, rate: float, seconds: float) -> list[object]:
    kind = mode.split("-")[0]
    split = mode.endswith("-split")
    db = Db(kind)
    graph = FakeGraphApi().start()
    server: subprocess.Popen[bytes] | None = None
    worker: subprocess.Popen[bytes] | None = None
    try:
        _setup(db, graph.url)
        port = _free_port()
        env = {**os.environ, "CAUCE_DATABASE_URL": db.url, "CAUCE_DATA_DIR": str(db.tmp),
               "CAUCE_SECRET_KEY": SECRET_KEY, "CAUCE_CLOCK": "real", "CAUCE_LOG_LEVEL": "WARNING",
               "CAUCE_EMBEDDED_RUNTIME": "false" if split else "true", "CAUCE_WORKERS": "1"}
        cli = [sys.executable, "-c", "from cauce.cli import main; main()"]
        server = subprocess.Popen([*cli, "serve", "--port", str(port)], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if split:
            worker = subprocess.Popen([*cli, "worker", "--concurrency", "1"], cwd=ROOT, env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.2)
        time.sleep(1.0)
        cpu_before = _cpu_seconds(server.pid)
        out: Any = multiprocessing.Queue()
        start_at = time.perf_counter() + 1.0  # perf_counter is system-wide (CLOCK_MONOTONIC)
        procs = [multiprocessing.Process(target=_client, args=(port, rate, seconds, k,
                                                               start_at, out))
                 for k in range(CLIENTS)]
        for p in procs:
            p.start()
        results: list[tuple[float, float, float, int]] = []
        for _ in procs:
            results += out.get()
        for p in procs:
            p.join()
        answered = time.monotonic()
        cpu = _cpu_seconds(server.pid) - cpu_before
        while _unparsed(db) and time.monotonic() - answered < 600:
            time.sleep(0.2)
        parsed_after = time.monotonic() - answered
        span = max(r[2] for r in results) - min(r[0] for r in results)
        ok = [r for r in results if r[3] == 200]
        latency = [(r[2] - r[1]) * 1000 for r in ok]
        late = [max(r[1] - r[0], 0.0) * 1000 for r in results]
        p99 = _pct(latency, 0.99) if latency else float("nan")
        return [kind, "split" if split else "embedded", len(results),
                len(results) - len(ok), f"{len(results) / span:,.0f}",
                f"{_pct(latency, 0.5):.1f}", f"{_pct(latency, 0.95):.1f}", f"{p99:.1f}",
                f"{max(latency):.0f}", f"{_pct(late, 0.99):.0f}",
                f"{cpu * 1000 / max(len(results), 1):.2f}", f"{parsed_after:.1f}",
                "met" if p99 <= TARGET_P99_MS and len(ok) == len(results) else "MISSED"]
    finally:
        for proc in (server, worker):
            if proc is not None:
                proc.terminate()
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
        graph.stop()
        db.close()


def main() -> None:
    rate = float(sys.argv[1]) if len(sys.argv) > 1 else 500.0
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 10.0
    kinds = sys.argv[3:] or ["sqlite", "postgres"]
    rows = [run(kind, rate, seconds) for kind in kinds]
    table(f"WhatsApp webhook answer latency at {rate:.0f} messages/s for {seconds:.0f} s, "
          f"cauce serve (target p99 <= {TARGET_P99_MS:.0f} ms)",
          ["database", "mode", "webhooks", "errors", "achieved/s", "p50 ms", "p95 ms",
           "p99 ms", "max ms", "late p99 ms", "API CPU ms", "parsed +s", "target"], rows)


if __name__ == "__main__":
    main()
