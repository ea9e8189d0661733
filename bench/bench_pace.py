"""Per-number sending pace: every send of one WhatsApp number goes through the token bucket
shared by all workers (``runtime_rate_buckets``), so the number never exceeds its configured
rate, however many workers deliver. The fake Graph API enforces the same limit itself (a
token bucket of 80/s holding at most ``FAKE_BURST`` sends) and answers any excess with Meta's
``130429`` rate-limit error, so a 429 here means Cauce went too fast.

Measured per mode: the steady pace (sends after the first, divided by the time from the first
to the last), the busiest one-second window, the 429s the fake answered, and Cauce's CPU per
send (embedded: this process, which also runs the fake; PostgreSQL: the worker processes).
Waiting for tokens must not cost CPU: a queue far longer than a second of the rate is claimed
about once or twice per row, not once per token refill.

Usage: python bench/bench_pace.py [SENDS [sqlite|postgres ...]]   (default 1200: 15 s at 80/s
per mode, both modes)
"""

from __future__ import annotations

import os
import sys
import threading
import time

from _runtime_common import T0, Db, cpu_seconds, table
from bench_pipeline import _wait_done
from sqlalchemy.orm import Session
from tests.runtime.fake_engine import FakeEngine
from tests.runtime.procs import Workers
from tests.runtime.support import make_contacts, make_workspace, publish
from tests.support.fakes.graph_api import FakeGraphApi, error_body
from tests.support.fakes.http import Recorded, Reply

from cauce.engine.types import MessageIn
from cauce.runtime.delivery import DEFAULT_BATCH, DeliveryConfig, register_handler
from cauce.runtime.handlers import MessageHandler, ResolvedChannel
from cauce.runtime.ingest import submit_inputs
from cauce.runtime.runner import Runtime, RuntimeOptions

RATE = 80.0  # Meta's default throughput per business phone number (messages per second)
FAKE_BURST = 16.0  # the fake tolerates 0.2 s of traffic at once
FLOW = {"trigger": {"keyword": "hola"}, "steps": [{"template": "uno"}, {"template": "dos"},
                                                   {"template": "tres"}]}


class PacedGraphApi(FakeGraphApi):
    """The fake Graph API with Meta's per-number throughput limit."""

    def __init__(self) -> None:
        super().__init__()
        self.tokens = FAKE_BURST
        self.last = time.monotonic()
        self.times: list[float] = []
        self.rejected = 0
        self._bucket = threading.Lock()

    def _send(self, request: Recorded) -> Reply:
        with self._bucket:
            now = time.monotonic()
            self.tokens = min(FAKE_BURST, self.tokens + (now - self.last) * RATE)
            self.last = now
            if self.tokens < 1:
                self.rejected += 1
                return Reply(*error_body(130429))
            self.tokens -= 1
            self.times.append(now)
        return super()._send(request)


def _busiest_second(times: list[float]) -> int:
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] >= 1.0:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def run(kind: str, sends: int) -> list[object]:
    db = Db(kind)
    graph = PacedGraphApi().start()
    n = sends // 3
    try:
        ws = make_workspace(db.cauce)
        contacts = make_contacts(db.cauce, ws, n)
        publish(db.cauce, ws, FLOW)
        config = {"phone_number_id": "1055", "access_token": "t", "graph_base_url": graph.url}

        def directory(_s: Session, _ws: int, _c: str) -> ResolvedChannel:
            return ResolvedChannel("whatsapp", config, "1055", rate_per_second=RATE)

        register_handler("message_requested", MessageHandler(directory))
        if kind == "sqlite":
            runtime = Runtime(db.cauce, FakeEngine(), RuntimeOptions(
                workers=1, batch_size=300, delivery_config=DeliveryConfig()))
            runtime.start()
            mode = "embedded, 1 process"
            pids = [os.getpid()]
        else:
            workers = Workers(db.url, graph.url, env={
                "CAUCE_TEST_BATCH": "300", "CAUCE_TEST_RATE": str(RATE),
                # Batches and leases as `cauce worker` has them.
                "CAUCE_TEST_DELIVERY_BATCH": str(DEFAULT_BATCH),
                "CAUCE_TEST_LEASE": str(DeliveryConfig.lease_seconds)})
            workers.start(2)
            time.sleep(3)
            mode = "2 worker processes"
            pids = [p.pid for p in workers.procs]
        cpu0 = sum(cpu_seconds(p) for p in pids)
        with db.cauce.transaction() as s:
            submit_inputs(s, [(ws, c, MessageIn(channel="whatsapp", text="hola",
                                                message_id=f"wamid.{c}", received_at=T0))
                              for c in contacts])
        _wait_done(db, 3 * n)
        cpu = sum(cpu_seconds(p) for p in pids) - cpu0
        if kind == "sqlite":
            runtime.stop()
        else:
            workers.stop()
        times = sorted(graph.times)
        span = times[-1] - times[0]
        pace = (len(times) - 1) / span if span > 0 else 0.0
        off = 100 * (pace - RATE) / RATE
        ok = abs(off) <= 5 and graph.rejected == 0
        return [kind, mode, len(times), f"{span:.1f}", f"{pace:.1f}", f"{off:+.1f}%",
                _busiest_second(times), graph.rejected, f"{1000 * cpu / len(times):.2f}",
                "met" if ok else "MISSED"]
    finally:
        graph.stop()
        db.close()


def main() -> None:
    sends = int(sys.argv[1]) if len(sys.argv) > 1 else 1200
    kinds = sys.argv[2:] or ["sqlite", "postgres"]
    rows = [run(kind, sends) for kind in kinds]
    table(f"per-number pace, one WhatsApp number limited to {RATE:.0f}/s (target: within 5%, "
          "zero 429s)", ["database", "mode", "sends", "span s", "sends/s", "vs 80/s",
                         "busiest 1 s", "429s", "CPU ms/send", "target"], rows)


if __name__ == "__main__":
    main()
