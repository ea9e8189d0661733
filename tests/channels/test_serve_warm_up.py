"""``cauce serve`` warms up before it accepts connections (cauce.api.warmup), and
``cauce worker`` runs niced so a shared host answers webhooks first."""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from structlog.testing import LogCapture

from cauce.api.app import create_app
from cauce.cli.worker import lower_priority
from cauce.logging import drop_when_quiet, get_logger, quiet
from cauce.services import inbound
from cauce.services.container import Cauce
from cauce.settings import Settings
from cauce.store.models import InboundWebhook
from tests.channels.conftest import sample
from tests.channels.support import PHONE_NUMBER_ID, connect_whatsapp, post_signed
from tests.support.fakes.graph_api import FakeGraphApi


@pytest.fixture
def logged() -> Iterator[LogCapture]:
    """What structlog logs, through the processor ``configure_logging`` puts first."""
    capture = LogCapture()
    before = structlog.get_config()["processors"]
    structlog.configure(processors=[drop_when_quiet, capture])
    try:
        yield capture
    finally:
        structlog.configure(processors=before)


def _stored(cauce: Cauce) -> int:
    with cauce.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(InboundWebhook)) or 0)


def test_serve_is_warm_before_its_first_request(
    api: TestClient, graph: FakeGraphApi, settings: Settings, cauce: Cauce,
    logged: LogCapture,
) -> None:
    connect_whatsapp(api, graph.url)
    inbound.WhatsAppNumbers.of(cauce)._loaded_at = -1e18  # as in a fresh process
    logged.entries.clear()
    with TestClient(create_app(settings, cauce=cauce, warm_up=True)) as served:
        # Secrets loaded: the first webhook is checked on the event loop, no thread hop.
        cached = inbound.WhatsAppNumbers.of(cauce).get(cached_only=True)
        assert PHONE_NUMBER_ID in cached
        assert _stored(cauce) == 0  # the INSERT it warmed up was rolled back
        assert gc.get_freeze_count() > 0
        # Its requests were not traffic: no access log line, no "rejected" warning.
        assert [e["event"] for e in logged.entries] == ["warmed_up"]
        response = post_signed(served, sample("inbound_text"))
        assert response.status_code == 200, response.text
        assert _stored(cauce) == 1
    assert any(e["event"] == "request" for e in logged.entries)  # real requests are logged


def test_quiet_drops_only_what_is_logged_inside_it(logged: LogCapture) -> None:
    log = get_logger("test")
    with quiet():
        log.warning("inside")
    log.warning("outside")
    assert [e["event"] for e in logged.entries] == ["outside"]


def test_the_worker_lowers_its_priority_for_the_threads_it_starts() -> None:
    seen: dict[str, Any] = {}

    def run() -> None:  # in a thread: Linux nices the calling thread, not the test process
        me = threading.get_native_id()
        before = os.getpriority(os.PRIO_PROCESS, me)
        lower_priority(before + 3)
        child = threading.Thread(target=lambda: seen.update(
            child=os.getpriority(os.PRIO_PROCESS, threading.get_native_id())))
        child.start()
        child.join()
        lower_priority(before)  # never raised again (that would need privileges)
        seen.update(before=before, after=os.getpriority(os.PRIO_PROCESS, me))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert seen["after"] == seen["before"] + 3 and seen["child"] == seen["after"]
