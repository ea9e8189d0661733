"""End to end: inbound messages stored as the WhatsApp webhook stores them (``submit_input``
with the wamid as dedupe key) -> a 3-step flow (three sends) -> outbound requests at a fake
Graph API on loopback. Embedded (one process, SQLite) and PostgreSQL with 2 worker processes.

Usage: python bench/bench_pipeline.py [MESSAGES]   (default 3000)
"""

from __future__ import annotations

import sys
import time

from _runtime_common import T0, Db, table
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.runtime.fake_engine import FakeEngine
from tests.runtime.procs import Workers
from tests.runtime.support import make_contacts, make_workspace, publish
from tests.support.fakes.graph_api import FakeGraphApi

from cauce.engine.types import MessageIn
from cauce.runtime.delivery import DeliveryConfig, register_handler
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


def run(kind: str, n: int) -> list[object]:
    db = Db(kind)
    graph = FakeGraphApi().start()
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
                workers=1, batch_size=300, delivery_config=DeliveryConfig(batch_size=64)))
            runtime.start()
            ingest = _ingest(db, ws, contacts)
            _wait_done(db, 3 * n)
            runtime.stop()
            mode = "embedded, 1 process"
        else:
            workers = Workers(db.url, graph.url, env={"CAUCE_TEST_BATCH": "300"})
            workers.start(2)
            time.sleep(3)  # process start-up is not what we measure
            start = time.perf_counter()
            ingest = _ingest(db, ws, contacts)
            _wait_done(db, 3 * n)
            workers.stop()
            mode = "2 worker processes"
        elapsed = time.perf_counter() - start
        accepted = sum(graph.accepted.values())
        return [kind, mode, n, accepted, f"{ingest:.1f}", f"{elapsed:.1f}",
                f"{n / elapsed:,.0f}", f"{accepted / elapsed:,.0f}"]
    finally:
        graph.stop()
        db.close()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    rows = [run("sqlite", n), run("postgres", n)]
    table("webhook -> 3-step flow -> fake Graph API", [
        "database", "mode", "messages in", "sends", "ingest s", "total s", "messages/s",
        "sends/s"], rows)


if __name__ == "__main__":
    main()
