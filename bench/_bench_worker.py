"""One runtime worker process for the benchmarks' scale-out mode (``--procs N``): what
``cauce worker`` runs (scheduler + one worker thread), with the runtime's test engine and no
delivery. ``python bench/_bench_worker.py DB_URL``. Prints ``ready``; on SIGUSR1 prints
``cpu <process s> <its PostgreSQL backends s> <RSS MB>``; stops on SIGTERM."""

from __future__ import annotations

import os
import signal
import sys
import threading
from types import FrameType

from _runtime_common import CpuMeter, rss_mb
from tests.runtime.fake_engine import FakeEngine

from cauce.clock import RealClock
from cauce.runtime.runner import Runtime, RuntimeOptions
from cauce.services.container import Cauce
from cauce.settings import load_settings


def main() -> None:
    # The protocol keeps this process's stdout; everything else printed (logs) goes to stderr.
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    settings = load_settings(database_url=sys.argv[1], secret_key="bench-secret-key-0123456789",
                             persist_secret=False, clock="real")
    cauce = Cauce.open(settings, clock=RealClock())
    meter = CpuMeter(cauce)
    runtime = Runtime(cauce, FakeEngine(), RuntimeOptions(
        workers=1, delivery=False, imports=False, batch_size=int(sys.argv[2])))
    stop = threading.Event()
    report = threading.Event()

    def on_term(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    def on_usr1(_signum: int, _frame: FrameType | None) -> None:
        report.set()

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGUSR1, on_usr1)
    runtime.start()
    print("ready", file=proto)
    while not stop.wait(0.05):
        if report.is_set():
            report.clear()
            py, pg = meter.sample()
            print(f"cpu {py} {pg} {rss_mb()}", file=proto)
    runtime.stop()
    cauce.close()


if __name__ == "__main__":
    main()
