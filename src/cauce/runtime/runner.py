"""Running the runtime: worker, scheduler and delivery loops in threads of one process.

The same :class:`Runtime` runs inside ``cauce serve`` (embedded, usually SQLite) and in each
``cauce worker`` process (scale-out on PostgreSQL). Every loop claims its work from the
database, so any number of processes can run side by side, join and leave at any time.
Stopping (SIGTERM) lets each loop finish the batch it is in; a SIGKILL loses nothing because
nothing is taken out of the database until the transaction that settles it commits.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.exc import DBAPIError, OperationalError

from cauce.logging import get_logger
from cauce.runtime.delivery import Delivery, DeliveryConfig
from cauce.runtime.engine_port import FlowEngine, default_engine
from cauce.runtime.handlers import install_default_handlers
from cauce.runtime.processor import Processor
from cauce.runtime.wakeup import (
    IMPORTS_CHANNEL,
    INPUTS_CHANNEL,
    OUTBOX_CHANNEL,
    SIGNALS,
    TIMERS_CHANNEL,
)
from cauce.services.container import Cauce

log = get_logger(__name__)

IDLE_POLL_SECONDS = 1.0  # wake-ups are hints; this bounds the delay when one is lost


@dataclass
class RuntimeOptions:
    workers: int = 1
    scheduler: bool = True
    delivery: bool = True
    imports: bool = True  # CSV contact imports (services.imports), one batch at a time
    batch_size: int = 200
    timer_batch: int = 1000  # timers fired (and processed) per transaction
    delivery_config: DeliveryConfig = field(default_factory=DeliveryConfig)
    listen: bool = True  # LISTEN/NOTIFY wake-ups on PostgreSQL


class Runtime:
    def __init__(
        self, cauce: Cauce, engine: FlowEngine | None = None,
        options: RuntimeOptions | None = None,
    ) -> None:
        self.cauce = cauce
        self.engine = engine or _engine_from(cauce)
        self.options = options or RuntimeOptions()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.delivery: Delivery | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        install_default_handlers()
        freeze_startup_heap()
        opts = self.options
        for i in range(opts.workers):
            processor = Processor(self.cauce, self.engine, batch_size=opts.batch_size)
            self._spawn(f"cauce-worker-{i}", self._loop(processor.process_batch, INPUTS_CHANNEL))
        if opts.scheduler:
            # The scheduler fires due timers straight into processing (Processor.fire_timers).
            timers = Processor(self.cauce, self.engine, batch_size=opts.batch_size)
            self._spawn("cauce-scheduler", self._loop(
                lambda: timers.fire_timers(opts.timer_batch), TIMERS_CHANNEL))
        if opts.imports:
            self._spawn("cauce-imports", self._loop(self._import_batch, IMPORTS_CHANNEL))
        if opts.delivery:
            self.delivery = Delivery(self.cauce, opts.delivery_config)
            self._spawn("cauce-delivery", self._delivery_loop(self.delivery))
        if opts.listen and self.cauce.engine.dialect.name == "postgresql":
            self._spawn("cauce-listen", self._listen)
        log.info("runtime_started", workers=opts.workers, scheduler=opts.scheduler,
                 delivery=opts.delivery)

    def stop(self, timeout: float = 30.0) -> None:
        """Finish in-flight batches and stop (what SIGTERM does)."""
        self._stop.set()
        for signal in SIGNALS.values():
            signal.notify()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(deadline - time.monotonic(), 0.1))
        if self.delivery is not None:
            self.delivery.close()
            # The adapters' keep-alive connections outlive batches; release them with the
            # runtime (they reopen lazily if this process sends again).
            from cauce.channels import registry

            registry.close_all()
        log.info("runtime_stopped")

    def wait(self) -> None:
        while not self._stop.wait(0.5):
            pass

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    # ------------------------------------------------------------------ loops

    def _loop(self, step: Callable[[], int], channel: str) -> Callable[[], None]:
        def run() -> None:
            signal = SIGNALS[channel]
            while not self._stop.is_set():
                try:
                    did = step()
                except (OperationalError, DBAPIError) as exc:
                    # Deadlocks, serialization failures, a database restart: the
                    # transaction rolled back, nothing was lost; try again shortly.
                    log.warning("runtime_db_error", loop=channel, error=str(exc.orig)[:200])
                    did = 0
                    self._stop.wait(0.5)
                except Exception:
                    log.exception("runtime_loop_error", loop=channel)
                    did = 0
                    self._stop.wait(1.0)
                if not did:
                    signal.wait(IDLE_POLL_SECONDS)
        return run

    def _import_batch(self) -> int:
        from cauce.services import imports

        return imports.process_next(self.cauce)

    def _delivery_loop(self, delivery: Delivery) -> Callable[[], None]:
        def run() -> None:
            signal = SIGNALS[OUTBOX_CHANNEL]
            while not self._stop.is_set():
                try:
                    did = delivery.deliver_batch()
                except (OperationalError, DBAPIError) as exc:
                    log.warning("delivery_db_error", error=str(exc.orig)[:200])
                    did = 0
                except Exception:
                    log.exception("delivery_loop_error")
                    did = 0
                if not did:
                    wait = delivery.next_wake
                    signal.wait(min(wait, IDLE_POLL_SECONDS) if wait else IDLE_POLL_SECONDS)
        return run

    def _listen(self) -> None:
        """Turn PostgreSQL notifications into this process's wake-up signals."""
        import psycopg

        url = self.cauce.engine.url.set(drivername="postgresql")
        dsn = url.render_as_string(hide_password=False)
        while not self._stop.is_set():
            try:
                with psycopg.connect(dsn, autocommit=True) as conn:
                    for channel in SIGNALS:
                        conn.execute(f"LISTEN {channel}")
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=1.0):
                            SIGNALS[note.channel].notify()
            except psycopg.Error as exc:
                log.warning("listen_failed", error=str(exc)[:200])
                self._stop.wait(1.0)


def freeze_startup_heap() -> None:
    """Exclude the objects alive now from the cyclic garbage collector's passes.

    What a process has loaded by the time its runtime starts (modules, SQLAlchemy and
    pydantic schemas, caches) is most of its heap and is never garbage, yet every full
    collection traversed all of it: a batch of 500 inputs allocates enough to trigger one or
    two, and with the FakeEngine they were ~20% of the runtime's CPU per input. ``gc.freeze``
    (the standard library's remedy, made for long-running servers) moves them to a permanent
    generation; everything allocated afterwards is collected as before. Once per process
    (the first runtime started): a process runs one runtime, and tests start many."""
    global _heap_frozen
    if _heap_frozen:
        return
    _heap_frozen = True
    gc.collect()  # what is already garbage is freed, not kept forever
    gc.freeze()


_heap_frozen = False


def _engine_from(cauce: Cauce) -> FlowEngine:
    injected = cauce.extras.get("flow_engine")
    if injected is not None:
        return injected  # type: ignore[return-value]
    return default_engine()


def embedded_start_hook(cauce: Cauce) -> Callable[[], None]:
    """``create_app`` start hook for ``cauce serve``: run the runtime in this process."""
    workers = cauce.settings.workers
    if not cauce.settings.embedded_runtime:
        return lambda: None
    runtime = Runtime(cauce, options=RuntimeOptions(workers=max(workers, 1)))
    runtime.start()
    cauce.extras["runtime"] = runtime
    return runtime.stop


def utcnow() -> datetime:
    return datetime.now(UTC)
