"""End to end: inbound messages stored as the WhatsApp webhook stores them (``submit_input``
with the wamid as dedupe key) -> a 3-step flow (three sends) -> outbound requests at a fake
Graph API on loopback. Embedded (one process, SQLite) and PostgreSQL with 2 worker processes.

The fake Graph API runs in a process of its own (Meta's servers are not in ours), so the CPU
Cauce spends is measured apart: "Cauce CPU ms/msg" is the CPU time of the process(es) running
the runtime (embedded: the bench process, which also ingests) per inbound message, the number
the cores-needed arithmetic in docs/scaling.md starts from.

Usage: python bench/bench_pipeline.py [MESSAGES [sqlite|postgres ...]]   (default 3000, both)
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

from _runtime_common import ROOT, T0, Db, cpu_seconds, table
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.runtime.fake_engine import FakeEngine
from tests.runtime.procs import Workers
from tests.runtime.support import make_contacts, make_workspace, publish

from cauce.engine.types import MessageIn
from cauce.runtime.delivery import DEFAULT_BATCH, DeliveryConfig, register_handler
from cauce.runtime.handlers import MessageHandler, ResolvedChannel
from cauce.runtime.ingest import submit_input
from cauce.runtime.runner import Runtime, RuntimeOptions
from cauce.store.models import OutboxItem

FLOW = {"trigger": {"keyword": "hola"}, "steps": [{"template": "uno"}, {"template": "dos"},
                                                   {"template": "tres"}]}


def _ingest(db: Db, ws: int, contacts: list[int]) -> float:
    start = time.perf_counter()
    for i in range(0, len(contacts), 100):
        with db.cauce.transaction() as s:
            for c in contacts[i:i + 100]:
                msg = MessageIn(channel="whatsapp", text="hola", message_id=f"wamid.{c}",
                                received_at=T0)
                submit_input(s, workspace_id=ws, contact_id=c, input=msg,
                             dedupe_key=f"wamid.{c}")
    return time.perf_counter() - start


def _wait_done(db: Db, expected: int, timeout: float = 900) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with db.cauce.transaction() as s:
            done = s.scalar(select(func.count()).where(OutboxItem.status == "done"))
        if done == expected:
            return
        time.sleep(0.05)
    raise TimeoutError(f"only {done} of {expected} sends done")


TARGETS = {"sqlite": 1500, "postgres": 3000}


class GraphProcess:
    """The fake Graph API (tests.support.fakes.graph_api) in a process of its own."""

    def __init__(self) -> None:
        code = ("import sys, time; from tests.support.fakes.graph_api import FakeGraphApi; "
                "g = FakeGraphApi().start(); print(g.url, flush=True); sys.stdin.read()")
        self.proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, text=True,
                                     env={**os.environ, "PYTHONPATH": str(ROOT)},
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()

    def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


def run(kind: str, n: int) -> list[object]:
    db = Db(kind)
    graph = GraphProcess()
    try:
        ws = make_workspace(db.cauce)
        contacts = make_contacts(db.cauce, ws, n)
        publish(db.cauce, ws, FLOW)
        config = {"phone_number_id": "1055", "access_token": "t", "graph_base_url": graph.url}

        def directory(_s: Session, _ws: int, _c: str) -> ResolvedChannel:
            return ResolvedChannel("whatsapp", config, "1055", rate_per_second=100_000)

        register_handler("message_requested", MessageHandler(directory))
        start = time.perf_counter()
        if kind == "sqlite":
            runtime = Runtime(db.cauce, FakeEngine(), RuntimeOptions(
                workers=1, batch_size=300, delivery_config=DeliveryConfig()))
            cpu0 = cpu_seconds(os.getpid())
            runtime.start()
            ingest = _ingest(db, ws, contacts)
            _wait_done(db, 3 * n)
            cpu = cpu_seconds(os.getpid()) - cpu0
            runtime.stop()
            mode = "embedded, 1 process"
        else:
            # Delivery batches and leases as `cauce worker` has them (the crash tests'
            # 5-second lease, when a loaded box stretches a batch past it, makes the other
            # worker take its rows over and re-send them: not what production does).
            workers = Workers(db.url, graph.url, env={
                "CAUCE_TEST_BATCH": "300", "CAUCE_TEST_DELIVERY_BATCH": str(DEFAULT_BATCH),
                "CAUCE_TEST_LEASE": str(DeliveryConfig.lease_seconds)})
            workers.start(2)
            time.sleep(3)  # process start-up is not what we measure
            start = time.perf_counter()
            cpu0 = sum(cpu_seconds(p.pid) for p in workers.procs)
            ingest = _ingest(db, ws, contacts)
            _wait_done(db, 3 * n)
            cpu = sum(cpu_seconds(p.pid) for p in workers.procs) - cpu0
            workers.stop()
            mode = "2 worker processes"
        elapsed = time.perf_counter() - start
        sends = 3 * n
        rate = n / elapsed
        return [kind, mode, n, sends, f"{ingest:.1f}", f"{elapsed:.1f}", f"{rate:,.0f}",
                f"{sends / elapsed:,.0f}", f"{1000 * cpu / n:.1f}", f"{TARGETS[kind]:,}",
                "met" if rate >= TARGETS[kind] else "MISSED"]
    finally:
        graph.stop()
        db.close()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    kinds = sys.argv[2:] or ["sqlite", "postgres"]
    rows = [run(kind, n) for kind in kinds]
    table("inbound message -> 3-step flow -> fake Graph API (3 sends each)", [
        "database", "mode", "messages in", "sends", "ingest s", "total s", "messages/s",
        "sends/s", "Cauce CPU ms/msg", "target msg/s", "target"], rows)


if __name__ == "__main__":
    main()
