"""Waiting runs cost rows, not memory; and many timers due at once.

1. Start N runs of "wait 7 days, then send" (PostgreSQL), report storage per waiting run
   (runs + timers tables with their indexes; the step log separately) and this worker's RSS
   before and after.
   Planner statistics are refreshed (``ANALYZE``) after the contacts are made and after the
   runs start, as autovacuum would have by then (see :func:`analyze`).
2. Make every timer due now and measure how long the runtime (scheduler + 2 worker threads in
   this process) takes to resume them all.

Usage: python bench/bench_waiting.py [N]   (default 20000; the targets are stated for 100k and
1M, so the table also gives the time 100,000 would take at the measured rate)
"""

from __future__ import annotations

import resource
import sys
import time
from datetime import UTC, datetime

from _runtime_common import T0, CpuMeter, Db, table
from sqlalchemy import select, text, update
from tests.runtime.fake_engine import FakeEngine
from tests.runtime.support import make_contacts, make_workspace, processor, publish

from cauce.engine.types import EventIn, Input
from cauce.runtime.ingest import submit_inputs
from cauce.runtime.runner import Runtime, RuntimeOptions
from cauce.runtime.simclock import wait_until_drained
from cauce.store.models import RuntimeRun, RuntimeTimer


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    db = Db("postgres")
    meter = CpuMeter(db.cauce)
    try:
        ws = make_workspace(db.cauce)
        contacts = make_contacts(db.cauce, ws, n)
        publish(db.cauce, ws, {"trigger": {"event": "go"},
                               "steps": [{"wait": 7 * 86400}, {"send": "hola"}]})
        analyze(db)  # a segment's contacts exist (and autovacuum has analyzed them) long before
        p = processor(db.cauce, batch_size=500)
        rss_before = rss_mb()
        base = size(db, ["runtime_runs", "runtime_timers"])
        for i in range(0, n, 5000):
            with db.cauce.transaction() as s:
                rows: list[tuple[int, int, Input]] = [
                    (ws, c, EventIn(name="go", occurred_at=T0)) for c in contacts[i:i + 5000]]
                submit_inputs(s, rows)
        start, cpu0 = time.perf_counter(), meter.sample()
        wait_until_drained(db.cauce, p.process_batch)
        started_s = time.perf_counter() - start
        start_cpu = meter.since(cpu0)
        waiting_bytes = size(db, ["runtime_runs", "runtime_timers"]) - base
        log_bytes = size(db, ["runtime_step_log"])
        rss_after = rss_mb()
        analyze(db)  # the runs waited 7 days: autovacuum has analyzed their tables meanwhile
        # Everything due now.
        with db.cauce.transaction() as s:
            s.execute(update(RuntimeTimer).values(due_at=datetime.now(UTC)))
        runtime = Runtime(db.cauce, FakeEngine(), RuntimeOptions(workers=2, delivery=False,
                                                                  batch_size=500))
        start, cpu0 = time.perf_counter(), meter.sample()
        runtime.start()
        while True:
            with db.cauce.transaction() as s:
                left = s.scalar(select(RuntimeRun.id).where(RuntimeRun.status == "waiting")
                                .limit(1))
            if left is None:
                break
            time.sleep(0.1)
        resumed_s = time.perf_counter() - start
        resume_cpu = meter.since(cpu0)
        runtime.stop()
        start_rate, resume_rate = n / started_s, n / resumed_s
        per_run = waiting_bytes / n
        rss_delta = rss_after - rss_before

        def verdict(ok: bool) -> str:
            return "met" if ok else "MISSED"

        table("waiting runs and timers due at once (PostgreSQL)",
              ["measure", "measured", "target", "target"], [
            ["segment start: first step done for all", f"{n:,} in {started_s:.1f} s "
             f"({start_rate:,.0f}/s; 100,000 would take {100_000 / start_rate:.0f} s)",
             "100,000 in <= 20 s", verdict(100_000 / start_rate <= 20)],
            ["bytes per waiting run (runs + timers + indexes)", f"{per_run:,.0f}",
             "<= 1,024", verdict(per_run <= 1024)],
            ["step log bytes per run (history, not needed to wait)", f"{log_bytes / n:,.0f}",
             "", ""],
            ["worker RSS before / after starting them (MB)",
             f"{rss_before:.0f} / {rss_after:.0f} ({rss_delta:+.0f} MB)",
             "unchanged", verdict(rss_delta < 16)],
            ["timers due at once, all resumed in", f"{resumed_s:.1f} s "
             f"({resume_rate:,.0f}/s; 100,000 would take {100_000 / resume_rate:.0f} s)",
             "100,000 in <= 10 s", verdict(100_000 / resume_rate <= 10)],
            ["CPU per input, segment start (ms: this process + its PostgreSQL backends)",
             cpu(start_cpu, n), "", ""],
            ["CPU per input, timers (ms: this process + its PostgreSQL backends)",
             cpu(resume_cpu, n), "", ""],
        ])
    finally:
        db.close()


if __name__ == "__main__":
    main()
