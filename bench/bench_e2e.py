"""End to end, the whole way: signed WhatsApp webhooks posted over HTTP to a real ``cauce
serve`` → stored raw, answered, parsed into contacts, messages and inputs → the real flow
engine runs a published flow (keyword trigger "hola", three WhatsApp text nodes) → three
requests per message at a fake Graph API on loopback, each recorded as sent.

Unlike ``bench_pipeline.py`` (which starts at the stored input and uses the runtime's test
engine, to isolate the runtime), nothing here is skipped: the HTTP answer, the webhook drain,
the real engine, the channel adapter and the ``messages`` log are all in the measured path.

Modes: SQLite embedded (one ``cauce serve`` doing everything, as ``make run`` starts it) and
PostgreSQL scale-out (``cauce serve`` without the runtime plus 2 ``cauce worker`` processes).
Each inbound message comes from a contact of its own, to one WhatsApp number whose channel is
set to 1,000 messages/s (the most Meta grants a number), so pacing is not the limit.

The webhooks are posted as fast as the server answers (2 client processes × 8 keep-alive
connections, closed loop), so the table shows the sustained rate: messages/s = messages /
(time from the first post until the last of the 3 × N sends is recorded). "Cauce CPU ms/msg"
is the CPU time of Cauce's processes (serve, and the workers) per message; "box busy" is the
share of both cores in use during the run (everything: Cauce, PostgreSQL, the clients and the
fake), which says whether the machine, not Cauce, was the limit.

Usage: python bench/bench_e2e.py [MESSAGES [sqlite|postgres ...]]   (default 2000, both)
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import os
import sys
import time
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
from bench_pipeline import TARGETS, GraphProcess
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from cauce.api.app import create_app
from cauce.channels.whatsapp.webhook import sign
from cauce.services.workspaces import ensure_demo
from cauce.store.models import OutboxItem

APP_SECRET = "bench-app-secret"
SECRET_KEY = "bench-secret-key-0123456789"
NUMBERS = ["106540352242922"]
CLIENTS, CONNECTIONS = 2, 8

FLOW = {
    "format": 1, "metadata": {"name": "Bienvenida (bench)"},
    "triggers": [{"type": "inbound_message", "match": "keyword", "keywords": ["hola"]}],
    "nodes": [
        {"id": "uno", "type": "whatsapp_text",
         "config": {"text": "¡Hola {{ contact.first_name }}! Gracias por escribir."},
         "exits": {"next": "dos", "failed": "fin"}},
        {"id": "dos", "type": "whatsapp_text",
         "config": {"text": "Tenemos stock de todo el catálogo."},
         "exits": {"next": "tres", "failed": "fin"}},
        {"id": "tres", "type": "whatsapp_text",
         "config": {"text": "¿Querés que te pase los precios?"},
         "exits": {"next": "fin", "failed": "fin"}},
        {"id": "fin", "type": "end", "config": {}, "exits": {}},
    ],
}


def _body(i: int) -> bytes:
    number = NUMBERS[i % len(NUMBERS)]
    sender = f"54911{i:08d}"
    return json.dumps({"object": "whatsapp_business_account", "entry": [{
        "id": "102290129340398", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": f"+{number}", "phone_number_id": number},
            "contacts": [{"profile": {"name": f"Cliente {i}"}, "wa_id": sender}],
            "messages": [{"from": sender, "id": f"wamid.E2E{os.getpid()}.{i:08d}",
                          "timestamp": str(int(time.time())), "type": "text",
                          "text": {"body": "hola, ¿tienen stock?"}}]}}]}]}).encode()


def _client(port: int, mine: list[int], out: Any) -> None:
    """Post ``mine`` over CONNECTIONS keep-alive connections, each as soon as the previous
    answer is read; report (statuses, first post, last answer)."""
    import threading

    bodies = [(_body(i), ) for i in mine]
    signed = [(b, sign(b, APP_SECRET)) for (b,) in bodies]
    lock = threading.Lock()
    queue = iter(signed)
    statuses: list[int] = []
    stamps: list[float] = []

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            with lock:
                item = next(queue, None)
            if item is None:
                break
            body, signature = item
            sent = time.perf_counter()
            try:
                conn.request("POST", "/webhooks/whatsapp", body=body, headers={
                    "Content-Type": "application/json", "X-Hub-Signature-256": signature})
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                status = 0
            with lock:
                statuses.append(status)
                stamps.extend((sent, time.perf_counter()))
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(CONNECTIONS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.put((statuses, min(stamps), max(stamps)))


def _setup(db: Db, graph_url: str) -> None:
    with db.cauce.transaction() as session:
        creds = ensure_demo(session, db.cauce.clock.now())
    assert creds is not None
    with TestClient(create_app(db.cauce.settings, cauce=db.cauce)) as api:
        api.headers["Authorization"] = f"Bearer {creds.api_key}"
        for n, number in enumerate(NUMBERS):
            created = api.post("/api/v1/channels", json={
                "kind": "whatsapp", "name": f"Ventas {n + 1}", "rate_per_second": 1000,
                "config": {"phone_number_id": number, "waba_id": "102290129340398",
                           "graph_base_url": graph_url, "graph_version": "v23.0"},
                "secrets": {"access_token": "EAAG-token", "app_secret": APP_SECRET,
                            "verify_token": "verify"}})
            assert created.status_code == 201, created.text
        flow = api.post("/api/v1/flows", json={"document": FLOW})
        assert flow.status_code == 201, flow.text
        published = api.post(f"/api/v1/flows/{flow.json()['id']}/publish")
        assert published.status_code == 201, published.text


def _box_busy() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def _sends_done(db: Db) -> int:
    with db.cauce.transaction() as s:
        return int(s.scalar(select(func.count()).where(OutboxItem.status == "done")) or 0)


def run(kind: str, n: int) -> list[object]:
    db = Db(kind)
    graph = GraphProcess()
    procs: list[Any] = []
    try:
        _setup(db, graph.url)
        port = free_port()
        split = kind == "postgres"
        env = {**os.environ, "CAUCE_DATABASE_URL": db.url, "CAUCE_DATA_DIR": str(db.tmp),
               "CAUCE_SECRET_KEY": SECRET_KEY, "CAUCE_CLOCK": "real", "CAUCE_LOG_LEVEL": "WARNING",
               "CAUCE_EMBEDDED_RUNTIME": "false" if split else "true"}
        procs.append(start_cauce(["serve", "--port", str(port)], env))
        if split:
            procs += [start_cauce(["worker"], env) for _ in range(2)]
        wait_listening(port)
        time.sleep(2.0)  # start-up is not what we measure
        cpu0 = sum(cpu_seconds(p.pid) for p in procs)
        box0 = _box_busy()
        out: Any = multiprocessing.Queue()
        clients = [multiprocessing.Process(target=_client, args=(port, list(range(k, n, CLIENTS)),
                                                                 out)) for k in range(CLIENTS)]
        for c in clients:
            c.start()
        results = [out.get() for _ in clients]
        for c in clients:
            c.join()
        statuses = [s for r in results for s in r[0]]
        first = min(r[1] for r in results)
        answered = max(r[2] for r in results) - first
        errors = sum(1 for s in statuses if s != 200)
        deadline = time.monotonic() + 900
        while (done := _sends_done(db)) < 3 * n and time.monotonic() < deadline:
            time.sleep(0.05)
        elapsed = time.perf_counter() - first
        cpu = sum(cpu_seconds(p.pid) for p in procs) - cpu0
        box1 = _box_busy()
        busy = (box1[0] - box0[0]) / max(box1[1] - box0[1], 1)
        rate = n / elapsed
        return [kind, "serve + 2 workers" if split else "embedded, 1 process", n, errors,
                f"{done:,}", f"{answered:.1f}", f"{elapsed:.1f}", f"{rate:,.0f}",
                f"{done / elapsed:,.0f}", f"{1000 * cpu / n:.1f}", f"{busy:.0%}",
                f"{TARGETS[kind]:,}",
                "met" if rate >= TARGETS[kind] and done == 3 * n and not errors else "MISSED"]
    finally:
        stop_processes(procs)
        graph.stop()
        db.close()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    kinds = sys.argv[2:] or ["sqlite", "postgres"]
    rows = [run(kind, n) for kind in kinds]
    table("end to end over HTTP: WhatsApp webhook -> real engine, 3-step flow -> fake Graph API",
          ["database", "mode", "messages", "errors", "sends done", "answered s", "total s",
           "messages/s", "sends/s", "Cauce CPU ms/msg", "box busy", "target msg/s", "target"],
          rows)


if __name__ == "__main__":
    main()
