"""Waiting runs cost rows, not memory; and many timers due at once.

1. Start N runs of "wait 7 days, then send" (PostgreSQL), report storage per waiting run
   (runs + timers tables with their indexes; the step log separately) and this worker's RSS
   before and after.
   Planner statistics are refreshed (``ANALYZE``) after the contacts are made and after the
   runs start, as autovacuum would have by then (see :func:`analyze`).
2. Make every timer due now and measure how long the runtime (scheduler + 2 worker threads in
   this process) takes to resume them all.

Usage: python bench/bench_waiting.py [N] [--procs=P]   (default 20000; the targets are stated
for 100k and 1M, so the table also gives the time 100,000 would take at the measured rate).
``--procs=P`` runs both phases on P worker processes (``cauce worker``'s runtime: scheduler +
one worker thread each), the PostgreSQL scale-out deployment; without it, as before, one
processor thread starts the segment and scheduler + 2 worker threads of this process resume.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any

from _runtime_common import ROOT, T0, CpuMeter, Db, rss_mb, table
from sqlalchemy import select, text, update
from tests.runtime.fake_engine import FakeEngine
from tests.runtime.support import make_contacts, make_workspace, processor, publish

from cauce.engine.types import EventIn, Input
from cauce.runtime.ingest import submit_inputs
from cauce.runtime.runner import Runtime, RuntimeOptions, freeze_startup_heap
from cauce.runtime.simclock import wait_until_drained
from cauce.runtime.wakeup import TIMERS_CHANNEL, notify_after_commit
from cauce.store.db import make_engine
from cauce.store.models import RuntimeInput, RuntimeRun, RuntimeTimer


def size(db: Db, tables: list[str]) -> int:
    with db.cauce.engine.connect() as conn:
        return sum(int(conn.execute(text(f"SELECT pg_total_relation_size('{t}')")).scalar()
                       or 0) for t in tables)


def analyze(db: Db) -> None:
    """Planner statistics, as autovacuum keeps them (its naptime is a minute). Without them,
    right after a bulk load the planner seq-scans ``contacts`` and ``runtime_runs`` for every
    batch and a 100,000-contact start slows from ~1,000/s to ~450/s as the tables grow."""
    with db.cauce.engine.begin() as conn:
        conn.execute(text("ANALYZE"))


def cpu(used: tuple[float, float], n: int) -> str:
    py, pg = (x * 1000 / n for x in used)
    return f"{py + pg:.3f} = {py:.3f} + {pg:.3f}"


class WorkerProcs:
    """``--procs N``: N worker processes (``_bench_worker.py``: scheduler + one worker thread
    each), the PostgreSQL scale-out deployment, instead of threads of this process."""

    def __init__(self, url: str, n: int, batch_size: int) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(ROOT / "src"), str(ROOT), str(ROOT / "bench")])}
        self.procs = [subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "_bench_worker.py"), url, str(batch_size)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True) for _ in range(n)]
        for proc in self.procs:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"

    def cpu(self) -> tuple[float, float]:
        """CPU seconds so far of the worker processes and of their PostgreSQL backends
        (and, in ``self.rss``, the largest worker RSS in MB)."""
        total = [0.0, 0.0]
        self.rss = 0.0
        for proc in self.procs:
            proc.send_signal(signal.SIGUSR1)
            assert proc.stdout is not None
            _, py, pg, rss = proc.stdout.readline().split()
            total[0] += float(py)
            total[1] += float(pg)
            self.rss = max(self.rss, float(rss))
        return total[0], total[1]

    def stop(self) -> None:
        for proc in self.procs:
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            proc.wait(timeout=60)


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if args else 20_000
    procs = int(next((a.split("=")[1] for a in sys.argv if a.startswith("--procs=")), 0))
    db = Db("postgres")
    meter = CpuMeter(db.cauce)
    workers: WorkerProcs | None = None
    try:
        ws = make_workspace(db.cauce)
        contacts = make_contacts(db.cauce, ws, n)
        publish(db.cauce, ws, {"trigger": {"event": "go"},
                               "steps": [{"wait": 7 * 86400}, {"send": "hola"}]})
        analyze(db)  # a segment's contacts exist (and autovacuum has analyzed them) long before
        rss_before = rss_mb()
        base = size(db, ["runtime_runs", "runtime_timers"])
        if procs:
            # The workers are up before the segment is stored, in one transaction: they start
            # on its commit, as they would on a segment start's.
            workers = WorkerProcs(db.url, procs, 500)
            workers.cpu()
            rss_before = workers.rss
            with db.cauce.transaction() as s:
                submit_inputs(s, [(ws, c, EventIn(name="go", occurred_at=T0))
                                  for c in contacts])
            start, cpu0 = time.perf_counter(), workers.cpu()
            wait_until(db, select(RuntimeInput.id).where(RuntimeInput.status == "pending"))
            started_s = time.perf_counter() - start
            start_cpu = minus(workers.cpu(), cpu0)
            rss_after = workers.rss
        else:
            p = processor(db.cauce, batch_size=500)
            for i in range(0, n, 5000):
                with db.cauce.transaction() as s:
                    rows: list[tuple[int, int, Input]] = [
                        (ws, c, EventIn(name="go", occurred_at=T0)) for c in contacts[i:i + 5000]]
                    submit_inputs(s, rows)
            freeze_startup_heap()  # what Runtime.start does in a worker process
            start, cpu0 = time.perf_counter(), meter.sample()
            wait_until_drained(db.cauce, p.process_batch)
            started_s = time.perf_counter() - start
            start_cpu = meter.since(cpu0)
        waiting_bytes = size(db, ["runtime_runs", "runtime_timers"]) - base
        log_bytes = size(db, ["runtime_step_log"])
        if workers is None:
            rss_after = rss_mb()
        analyze(db)  # the runs waited 7 days: autovacuum has analyzed their tables meanwhile
        # Everything due now.
        waiting = select(RuntimeRun.id).where(RuntimeRun.status == "waiting")
        if workers is not None:
            cpu0 = workers.cpu()
            start = time.perf_counter()
            with db.cauce.transaction() as s:
                s.execute(update(RuntimeTimer).values(due_at=datetime.now(UTC)))
                notify_after_commit(s, TIMERS_CHANNEL)
            wait_until(db, waiting)
            resumed_s = time.perf_counter() - start
            resume_cpu = minus(workers.cpu(), cpu0)
        else:
            with db.cauce.transaction() as s:
                s.execute(update(RuntimeTimer).values(due_at=datetime.now(UTC)))
            runtime = Runtime(db.cauce, FakeEngine(), RuntimeOptions(
                workers=2, delivery=False, batch_size=500))
            start, cpu0 = time.perf_counter(), meter.sample()
            runtime.start()
            wait_until(db, waiting)
            resumed_s = time.perf_counter() - start
            resume_cpu = meter.since(cpu0)
            runtime.stop()
        start_rate, resume_rate = n / started_s, n / resumed_s
        per_run = waiting_bytes / n
        rss_delta = rss_after - rss_before

        def verdict(ok: bool) -> str:
            return "met" if ok else "MISSED"

        mode = (f"{procs} worker processes (scheduler + 1 worker thread each)" if procs else
                "1 processor thread to start, scheduler + 2 worker threads for timers")
        table(f"waiting runs and timers due at once (PostgreSQL; {mode})",
              ["measure", "measured", "target", "target"], [
            ["segment start: first step done for all", f"{n:,} in {started_s:.1f} s "
             f"({start_rate:,.0f}/s; 100,000 would take {100_000 / start_rate:.0f} s)",
             "100,000 in <= 20 s", verdict(100_000 / start_rate <= 20)],
            ["bytes per waiting run (runs + timers + indexes)", f"{per_run:,.0f}",
             "<= 1,024", verdict(per_run <= 1024)],
            ["step log bytes per run (history, not needed to wait)", f"{log_bytes / n:,.0f}",
             "", ""],
            ["worker RSS before / after starting them (MB; largest worker with --procs)",
             f"{rss_before:.0f} / {rss_after:.0f} ({rss_delta:+.0f} MB)",
             "unchanged", verdict(rss_delta < 16)],
            ["timers due at once, all resumed in", f"{resumed_s:.1f} s "
             f"({resume_rate:,.0f}/s; 100,000 would take {100_000 / resume_rate:.0f} s)",
             "100,000 in <= 10 s", verdict(100_000 / resume_rate <= 10)],
            ["CPU per input, segment start (ms: runtime processes + their PostgreSQL "
             "backends)", cpu(start_cpu, n), "", ""],
            ["CPU per input, timers (ms: runtime processes + their PostgreSQL backends)",
             cpu(resume_cpu, n), "", ""],
        ])
    finally:
        if workers is not None:
            workers.stop()
        db.close()


def wait_until(db: Db, query: Any) -> None:
    """Until ``query`` (a ``LIMIT 1`` probe) finds nothing; every 0.1 s. Through an engine of
    its own: the probe's database work is the bench's, not the runtime's, and stays out of
    the CPU measured (its backend is not one :class:`CpuMeter` watches)."""
    poller = make_engine(db.url)
    try:
        while True:
            with poller.connect() as conn:
                if conn.execute(query.limit(1)).first() is None:
                    return
            time.sleep(0.1)
    finally:
        poller.dispose()


def minus(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
    return a[0] - b[0], a[1] - b[1]


if __name__ == "__main__":
    main()
