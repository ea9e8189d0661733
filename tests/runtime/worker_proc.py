"""A runtime worker process for the multi-process tests: the same :class:`Runtime` that
``cauce worker`` runs, with the test engine and (optionally) WhatsApp pointed at a fake Graph
API. ``python -m tests.runtime.worker_proc DB_URL [GRAPH_URL]``; stops on SIGTERM."""

from __future__ import annotations

import os
import signal
import sys
import threading
from types import FrameType

from sqlalchemy.orm import Session

from cauce.runtime.delivery import DeliveryConfig, register_handler
from cauce.runtime.handlers import MessageHandler, ResolvedChannel, install_default_handlers
from cauce.runtime.runner import Runtime, RuntimeOptions
from cauce.services.container import Cauce
from cauce.settings import load_settings
from tests.runtime.fake_engine import FakeEngine


def main() -> None:
    db_url = sys.argv[1]
    graph_url = sys.argv[2] if len(sys.argv) > 2 else ""
    settings = load_settings(database_url=db_url, secret_key="test-secret-key-0123456789",
                             persist_secret=False, clock="real")
    cauce = Cauce.open(settings)
    install_default_handlers()
    if graph_url:
        config = {"phone_number_id": "1055", "access_token": "t", "graph_base_url": graph_url,
                  "timeout_seconds": 2}

        rate = float(os.environ.get("CAUCE_TEST_RATE", "100000"))

        def directory(_s: Session, _ws: int, _channel: str) -> ResolvedChannel:
            # A high rate: this test is about crashes, not pacing (bench_pace measures that).
            return ResolvedChannel(kind="whatsapp", config=config, sender="1055",
                                   rate_per_second=rate)

        register_handler("message_requested", MessageHandler(directory))
    options = RuntimeOptions(
        workers=int(os.environ.get("CAUCE_TEST_WORKERS", "2")),
        batch_size=int(os.environ.get("CAUCE_TEST_BATCH", "100")),
        delivery_config=DeliveryConfig(
            lease_seconds=float(os.environ.get("CAUCE_TEST_LEASE", "5")),
            reconcile_grace=float(os.environ.get("CAUCE_TEST_GRACE", "1.5")),
            batch_size=int(os.environ.get("CAUCE_TEST_DELIVERY_BATCH", "32")),
        ),
    )
    runtime = Runtime(cauce, FakeEngine(), options)
    stop = threading.Event()

    def _on_term(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_term)
    runtime.start()
    print("ready", flush=True)
    while not stop.wait(0.2):
        pass
    runtime.stop()
    cauce.close()


if __name__ == "__main__":
    main()
