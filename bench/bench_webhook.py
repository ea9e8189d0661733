"""Webhook answer latency under load: signed WhatsApp inbound-message webhooks posted to a real
``cauce serve`` (uvicorn, the API app) at a fixed rate, open loop. Each webhook is a new
message (its own wamid) from one of 1,000 senders: the route verifies the signature against
the cached app secrets, stores the raw body (group commit) and answers; the runtime parses it
into contact, message and input afterwards.

Modes: ``embedded`` (one ``cauce serve`` whose embedded runtime also parses what arrives, in
the same process) and ``split`` (``cauce serve`` without the runtime plus one ``cauce worker``
process, as in scale-out; PostgreSQL only).

The load comes from two client processes, each one selector loop over raw keep-alive sockets
(a request whose time has come goes out on an idle connection, or a new one: never held back
by the answers still awaited). Latency is measured from the moment a request is written to the
moment its answer is read. "late p99" says how far behind its schedule the generator fell
(its own process waiting for a core): when it is large, the box, not the server, set the
pace. Until 2026-12-03 the clients were 24 threads each on ``http.client``: when all 48 waited
for answers, the next requests were sent late (``late p99`` up to 1.5 s), which hid part of the
server's queueing from the latency columns. "API CPU ms" is the CPU the answering process used per
webhook (with ``embedded``: including the parsing); "parsed +s" is how long after the last
answer the runtime had parsed every stored webhook.

With ``--server-timing`` the served process also times itself (webhook_timing/sitecustomize.py)
and a second table says where its answers' time went.

Usage: python bench/bench_webhook.py [RATE [SECONDS [sqlite|postgres|postgres-split ...]]]
                                     [--server-timing]
       (default 500 messages/s for 10 s, sqlite and postgres)
"""

from __future__ import annotations

import json
import multiprocessing
import os
import selectors
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _runtime_common import (
    Db,
    cpu_seconds,
    free_port,
    start_cauce,
    stop_processes,
    table,
    wait_listening,
)
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
ANSWER_TIMEOUT_SECONDS = 30.0


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


def _request(i: int, port: int) -> bytes:
    body = _body(i)
    return (f"POST /webhooks/whatsapp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: application/json\r\nX-Hub-Signature-256: {sign(body, APP_SECRET)}"
            f"\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body


class _Conn:
    """One keep-alive connection with at most one request in flight."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setblocking(False)
        self.buffer = b""
        self.request: tuple[float, float] | None = None  # (due, sent)

    def answer(self) -> tuple[int, bool] | None:
        """(status, keep-alive) once the buffer holds a whole answer (consumed), else None."""
        head_end = self.buffer.find(b"\r\n\r\n")
        if head_end < 0:
            return None
        head = self.buffer[:head_end].decode("latin-1").split("\r\n")
        fields = {k.strip().lower(): v.strip()
                  for k, _, v in (line.partition(":") for line in head[1:])}
        end = head_end + 4 + int(fields.get("content-length", "0"))
        if len(self.buffer) < end:
            return None
        self.buffer = self.buffer[end:]
        return int(head[0].split()[1]), fields.get("connection", "").lower() != "close"


def _client(port: int, rate: float, seconds: float, offset: int, start_at: float,
            out: Any) -> None:
    """One load process: requests ``offset, offset + CLIENTS, ...`` sent at their scheduled
    times (open loop) from one selector loop over keep-alive sockets: no thread switches and
    no GIL between an answer arriving and its time being taken. A request whose time has
    come goes out on an idle connection, or on a new one when all are busy."""
    n = int(rate * seconds)
    mine = list(range(offset, n, CLIENTS))
    requests = [(start_at + i / rate, _request(i, port)) for i in mine]
    selector = selectors.DefaultSelector()
    idle = [_Conn(port) for _ in range(32)]
    results: list[tuple[float, float, float, int]] = []  # (due, sent, done, status)
    busy = 0
    nxt = 0

    def send(due: float, data: bytes) -> None:
        nonlocal busy
        conn = idle.pop() if idle else _Conn(port)
        sent = time.perf_counter()
        try:
            conn.sock.sendall(data)  # < 1 KB: the socket buffer takes it at once
        except OSError:
            conn.sock.close()
            results.append((due, sent, time.perf_counter(), 0))
            return
        conn.request = (due, sent)
        selector.register(conn.sock, selectors.EVENT_READ, conn)
        busy += 1

    while nxt < len(requests) or busy:
        now = time.perf_counter()
        while nxt < len(requests) and requests[nxt][0] <= now:
            send(*requests[nxt])
            nxt += 1
        timeout = max(requests[nxt][0] - time.perf_counter(), 0.0) if nxt < len(requests) \
            else ANSWER_TIMEOUT_SECONDS
        events = selector.select(timeout)
        if not events and nxt == len(requests):  # the server stopped answering
            for key in list(selector.get_map().values()):
                results.append((*key.data.request, time.perf_counter(), 0))
                key.data.sock.close()
            break
        for key, _ in events:
            conn = key.data
            try:
                chunk = conn.sock.recv(65536)
            except OSError:
                chunk = b""
            done = time.perf_counter()
            answer = None
            if chunk:
                conn.buffer += chunk
                answer = conn.answer()
                if answer is None:
                    continue  # the rest of the answer is still on its way
            selector.unregister(conn.sock)
            busy -= 1
            assert conn.request is not None
            results.append((*conn.request, done, answer[0] if answer else 0))
            conn.request = None
            if answer and answer[1]:
                idle.append(conn)
            else:
                conn.sock.close()
    for conn in idle:
        conn.sock.close()
    out.put(results)


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


def _unparsed(db: Db) -> int:
    try:
        with db.cauce.transaction() as session:
            return int(session.scalar(text(
                "SELECT count(*) FROM inbound_webhooks WHERE status = 'pending'")) or 0)
    except DBAPIError:  # code from before the webhooks were stored raw: parsed in the request
        return 0


def run(mode: str, rate: float, seconds: float, timing: list[list[object]] | None = None
        ) -> list[object]:
    """One mode's row; with ``timing``, the served process's own timing row is appended to it
    (``--server-timing``, see webhook_timing/sitecustomize.py)."""
    kind = mode.split("-")[0]
    split = mode.endswith("-split")
    db = Db(kind)
    graph = FakeGraphApi().start()
    server: subprocess.Popen[bytes] | None = None
    worker: subprocess.Popen[bytes] | None = None
    try:
        _setup(db, graph.url)
        port = free_port()
        env = {**os.environ, "CAUCE_DATABASE_URL": db.url, "CAUCE_DATA_DIR": str(db.tmp),
               "CAUCE_SECRET_KEY": SECRET_KEY, "CAUCE_CLOCK": "real", "CAUCE_LOG_LEVEL": "WARNING",
               "CAUCE_EMBEDDED_RUNTIME": "false" if split else "true", "CAUCE_WORKERS": "1"}
        timing_file = db.tmp / "server-timing.json"
        if timing is not None:
            env["BENCH_TIMING_OUT"] = str(timing_file)
            env["PYTHONPATH"] = os.pathsep.join(
                [str(Path(__file__).parent / "webhook_timing"), env.get("PYTHONPATH", "")])
        server = start_cauce(["serve", "--port", str(port)], env)
        if split:
            worker = start_cauce(["worker", "--concurrency", "1"], env)
        wait_listening(port)
        time.sleep(1.0)
        cpu_before = cpu_seconds(server.pid)
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
        cpu = cpu_seconds(server.pid) - cpu_before
        while _unparsed(db) and time.monotonic() - answered < 600:
            time.sleep(0.2)
        parsed_after = time.monotonic() - answered
        if timing is not None:
            timing.append([kind, "split" if split else "embedded",
                           *_server_timing(timing_file, start_at, len(results))])
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
        stop_processes([server, worker])
        graph.stop()
        db.close()


def _server_timing(path: Path, start_at: float, webhooks: int) -> list[str]:
    deadline = time.monotonic() + 10
    data: dict[str, Any] = {}
    while time.monotonic() < deadline:  # written once the load has been quiet for a second
        if path.exists():
            data = json.loads(path.read_text())
            if len(data["requests"]) >= webhooks:
                break
        time.sleep(0.2)
    if not data:
        return ["no timing written"]
    answers = [(done - got) * 1000 for got, done in data["requests"].values() if done]
    stalls = [s for s in data["stalls"] if s[0] >= start_at]
    stall, cpu, queue = (sum(s[i] for s in stalls) * 1000 for i in (1, 2, 3))
    passes = [g for g in data["passes"] if g[0] >= start_at]
    flushes = [f for f in data["flushes"] if f[0] >= start_at]
    return [f"{_pct(answers, 0.5):.1f}", f"{_pct(answers, 0.99):.1f}",
            f"{stall:.0f} = {cpu:.0f} + {queue:.0f} + {stall - cpu - queue:.0f}",
            f"{max((g[1] for g in passes), default=0) * 1000:.1f}",
            f"{_pct([f[1] * 1000 for f in flushes], 0.99):.1f}" if flushes else "-",
            f"{_pct([f[3] * 1000 for f in flushes], 0.99):.1f}" if flushes else "-"]


def main() -> None:
    server_timing = "--server-timing" in sys.argv
    sys.argv = [a for a in sys.argv if a != "--server-timing"]
    rate = float(sys.argv[1]) if len(sys.argv) > 1 else 500.0
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 10.0
    kinds = sys.argv[3:] or ["sqlite", "postgres"]
    timing: list[list[object]] | None = [] if server_timing else None
    rows = [run(kind, rate, seconds, timing) for kind in kinds]
    table(f"WhatsApp webhook answer latency at {rate:.0f} messages/s for {seconds:.0f} s, "
          f"cauce serve (target p99 <= {TARGET_P99_MS:.0f} ms)",
          ["database", "mode", "webhooks", "errors", "achieved/s", "p50 ms", "p95 ms",
           "p99 ms", "max ms", "late p99 ms", "API CPU ms", "parsed +s", "target"], rows)
    if timing is not None:
        table("Inside cauce serve during the load: received -> answer written; event-loop "
              "stalls > 3 ms = loop CPU + waiting for a core + the rest (mostly the GIL); "
              "longest GC pass; group commit (SQLite: its wait for the write lock)",
              ["database", "mode", "p50 ms", "p99 ms", "loop stalls ms", "GC max ms",
               "commit p99 ms", "lock wait p99 ms"], timing)


if __name__ == "__main__":
    main()
