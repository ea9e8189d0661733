"""Fixtures for channel tests: the shared WhatsApp sample payloads and fake providers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cauce.channels import registry
from cauce.channels.base import OutboundMessage, SendResult
from cauce.channels.http import send_loop
from cauce.channels.whatsapp import WhatsAppAdapter
from tests.support.fakes.graph_api import FakeGraphApi
from tests.support.fakes.twilio import FakeTwilio

SAMPLES = Path(__file__).parent / "samples"  # copied from shared/reference/whatsapp


def sample(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SAMPLES / f"{name}.json").read_text())
    return data


@pytest.fixture(autouse=True)
def _close_adapter_connections() -> Iterator[None]:
    # The registry's shared adapters pool connections to this test's fake servers.
    yield
    registry.close_all()


@pytest.fixture
def graph() -> Iterator[FakeGraphApi]:
    with FakeGraphApi() as server:
        yield server  # type: ignore[misc]


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as server:
        yield server  # type: ignore[misc]


class AsyncSends(WhatsAppAdapter):
    """The adapter with ``send`` going through ``send_async`` on the process's send loop, as
    delivery sends: every send test runs on both paths."""

    def send(self, message: OutboundMessage, config: dict[str, Any]) -> SendResult:
        return send_loop().run(self.send_async(message, config))


@pytest.fixture(params=["blocking", "async"])
def wa(request: pytest.FixtureRequest) -> Iterator[WhatsAppAdapter]:
    adapter = WhatsAppAdapter() if request.param == "blocking" else AsyncSends()
    yield adapter
    adapter.close()


@pytest.fixture
def wa_config(graph: FakeGraphApi) -> dict[str, Any]:
    return {"phone_number_id": "106540352242922", "waba_id": "102290129340398",
            "access_token": "EAAG-test-token", "graph_base_url": graph.url,
            "graph_version": "v23.0", "timeout_seconds": 5}
