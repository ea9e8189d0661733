"""``cauce worker``: a scale-out runtime process (workers, scheduler, delivery)."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import typer

from cauce.cli import app, fail, operator_errors
from cauce.cli.common import open_cauce


@app.command()
@operator_errors
def worker(
    concurrency: int = typer.Option(2, min=1, max=64, help="Input-processing threads."),
    scheduler: bool = typer.Option(True, help="Also fire due timers."),
    delivery: bool = typer.Option(True, help="Also deliver the outbox."),
    batch_size: int = typer.Option(200, min=1, max=5000, help="Inputs per transaction."),
) -> None:
    """Process inputs, timers and the outbox until SIGTERM/SIGINT (finishes in-flight work).

    Run any number of these against one PostgreSQL; they share the work through row locks.
    """
    from cauce.logging import configure_logging
    from cauce.runtime.runner import Runtime, RuntimeOptions

    settings, cauce = open_cauce()
    configure_logging(settings.log_format, settings.log_level)
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
