"""``cauce worker``: a scale-out runtime process (workers, scheduler, delivery)."""

from __future__ import annotations

import os
import signal
import threading
from types import FrameType

import typer

from cauce.cli import app, fail, operator_errors
from cauce.cli.common import open_cauce


def lower_priority(niceness: int) -> None:
    """Run this process (and the threads it starts) at ``niceness`` or lower priority.

    The worker's work is background work: parsing stored webhooks, running flows, firing
    timers, delivering. When it shares a host with ``cauce serve`` and PostgreSQL, every
    millisecond it holds a core delays a webhook answer the provider is waiting for; niced, it
    takes the cores they leave idle. On a host of its own it costs nothing. Never raised (that
    would need privileges)."""
    if not hasattr(os, "setpriority"):  # not on this platform
        return
    current = os.getpriority(os.PRIO_PROCESS, 0)
    if niceness > current:
        # Linux applies this to the calling thread; the runtime's threads, started
        # afterwards, inherit it.
        os.setpriority(os.PRIO_PROCESS, 0, niceness)


@app.command()
@operator_errors
def worker(
    concurrency: int = typer.Option(2, min=1, max=64, help="Input-processing threads."),
    scheduler: bool = typer.Option(True, help="Also fire due timers."),
    delivery: bool = typer.Option(True, help="Also deliver the outbox."),
    batch_size: int = typer.Option(200, min=1, max=5000, help="Inputs per transaction."),
    nice: int | None = typer.Option(
        None, min=0, max=19, help="Run at this niceness (default CAUCE_WORKER_NICE, 10)."),
) -> None:
    """Process inputs, timers and the outbox until SIGTERM/SIGINT (finishes in-flight work).

    Run any number of these against one PostgreSQL; they share the work through row locks.
    """
    from cauce.logging import configure_logging
    from cauce.runtime.runner import Runtime, RuntimeOptions

    settings, cauce = open_cauce()
    configure_logging(settings.log_format, settings.log_level)
    lower_priority(settings.worker_nice if nice is None else nice)
    if settings.is_sqlite and concurrency > 1:
        # SQLite has one writer: extra threads would only queue on its lock.
        concurrency = 1
    if settings.is_sqlite and settings.embedded_runtime:
        raise fail("on SQLite the runtime runs inside `cauce serve`; a separate `cauce worker` "
                   "needs PostgreSQL (or set CAUCE_EMBEDDED_RUNTIME=false on the server)")
    runtime = Runtime(cauce, options=RuntimeOptions(
        workers=concurrency, scheduler=scheduler, delivery=delivery, batch_size=batch_size,
    ))
    stop = threading.Event()

    def _on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    runtime.start()
    typer.echo(f"cauce worker: {concurrency} worker thread(s), scheduler={scheduler}, "
               f"delivery={delivery}; stop with SIGTERM")
    try:
        while not stop.wait(0.5):
            pass
    finally:
        runtime.stop()
        cauce.close()
