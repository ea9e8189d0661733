"""How long the webhook route's group commit waits for SQLite's write lock while the runtime's
worker runs transactions back to back (a drain of ~10 ms, then a batch of inputs of ~5 ms, over
and over: what it does while webhooks arrive at 500/s). One in-process run, no server: the
wait depends on the lock hand-over, not on the box's load.

Usage: python bench/bench_sqlite_writer.py [WRITES]   (default 300, one every 7 ms)
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
import threading
import time
from pathlib import Path

from _runtime_common import table
from sqlalchemy import text

from cauce.store import db

HOLDS = (0.010, 0.005)  # the worker's transactions, held with the CPU busy (parsing)


def run(writes: int) -> list[object]:
    engine = db.make_engine(f"sqlite:///{Path(tempfile.mkdtemp()) / 'writer.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
    stop = threading.Event()

    def worker() -> None:
        while not stop.is_set():
            for hold in HOLDS:
                with engine.begin() as conn:
                    conn.execute(text("INSERT INTO t VALUES (1)"))
                    started = time.perf_counter()
                    while time.perf_counter() - started < hold:
                        pass

    first = getattr(db, "write_first", contextlib.nullcontext)  # absent before 2026-12-03
    waits: list[float] = []
    thread = threading.Thread(target=worker)
    thread.start()
    for _ in range(writes):
        time.sleep(0.007)
        asked = time.perf_counter()
        with first(), engine.begin() as conn:
            waits.append((time.perf_counter() - asked) * 1000)
            conn.execute(text("INSERT INTO t VALUES (2)"))
    stop.set()
    thread.join()
    engine.dispose()
    waits.sort()
    return [writes, *(f"{waits[min(len(waits) - 1, int(q * len(waits)))]:.1f}"
                      for q in (0.5, 0.9, 0.99)), f"{waits[-1]:.1f}"]


def main() -> None:
    writes = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    table("Group-commit wait for SQLite's write lock, worker busy (10 ms + 5 ms transactions)",
          ["writes", "wait p50 ms", "p90 ms", "p99 ms", "max ms"], [run(writes)])


if __name__ == "__main__":
    main()
