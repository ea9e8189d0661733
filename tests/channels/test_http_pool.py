"""Connection reuse: sends through one adapter share keep-alive connections, per-call
timeouts still apply, and closing the registry's adapters releases them."""

from __future__ import annotations

import socketserver
from typing import Any

import pytest

from cauce.channels import registry
from cauce.channels.base import OutboundMessage
from cauce.channels.whatsapp import WhatsAppAdapter
from tests.support.fakes.graph_api import FakeGraphApi


def _text(i: int) -> OutboundMessage:
    return OutboundMessage(key=f"k{i}", channel="whatsapp", kind="text", to="34600000000",
                           payload={"text": f"hola {i}"})


def _count_connections(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    opened = [0]
    original = socketserver.BaseServer.finish_request

    def finish_request(self: Any, request: Any, address: Any) -> None:
        opened[0] += 1
        original(self, request, address)

    monkeypatch.setattr(socketserver.BaseServer, "finish_request", finish_request)
    return opened


def test_sequential_sends_reuse_one_connection(
    graph: FakeGraphApi, wa: WhatsAppAdapter, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = _count_connections(monkeypatch)
    config = {"phone_number_id": "1055", "access_token": "t", "graph_base_url": graph.url}
    slow = {**config, "timeout_seconds": 30}  # another timeout: same pool, per-call timeout
    results = [wa.send(_text(i), slow if i % 2 else config) for i in range(20)]
    assert [r.status for r in results] == ["sent"] * 20
    assert len(graph.sends()) == 20
    assert opened[0] == 1


def test_close_all_releases_and_reopens_lazily(
    graph: FakeGraphApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = _count_connections(monkeypatch)
    config = {"phone_number_id": "1055", "access_token": "t", "graph_base_url": graph.url}
    adapter = registry.get_adapter("whatsapp")
    assert adapter.send(_text(1), config).status == "sent"
    registry.close_all()
    assert adapter.send(_text(2), config).status == "sent"  # a fresh client, new connection
    assert opened[0] == 2
