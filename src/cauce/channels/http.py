"""HTTP plumbing shared by the adapters that speak HTTP: timeouts, Retry-After, and turning
transport failures into :class:`ChannelError` values instead of exceptions."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from cauce.channels.base import ChannelError, ErrorAction

DEFAULT_TIMEOUT_SECONDS = 10.0
# Connecting should be quick; a provider that accepted the connection may take longer to answer.
CONNECT_TIMEOUT_SECONDS = 5.0


def timeout_from(config: dict[str, Any]) -> httpx.Timeout:
    """Per-call timeout from a channel config (``timeout_seconds``), never unbounded."""
    seconds = float(config.get("timeout_seconds") or DEFAULT_TIMEOUT_SECONDS)
    return httpx.Timeout(seconds, connect=min(CONNECT_TIMEOUT_SECONDS, seconds))


def retry_after_seconds(response: httpx.Response, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date), else ``None``."""
    raw = response.headers.get("retry-after")
    if not raw:
        return None
    raw = raw.strip()
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def transport_error(exc: httpx.HTTPError, provider: str) -> ChannelError:
    """A request that never got an answer: retry (the idempotency key guards duplicates)."""
    if isinstance(exc, httpx.TimeoutException):
        return ChannelError("timeout", f"{provider} did not answer in time", ErrorAction.RETRY)
    return ChannelError(
        "network", f"could not reach {provider}: {type(exc).__name__}", ErrorAction.RETRY
    )


def json_or_empty(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {"value": data}


def status_error(response: httpx.Response, provider: str) -> ChannelError:
    """Map an HTTP status with no provider-specific code into an action."""
    status = response.status_code
    code = f"http_{status}"
    if status == 429:
        return ChannelError(code, f"{provider} is rate limiting us; retrying later",
                            ErrorAction.RETRY, retry_after_seconds(response))
    if status >= 500:
        return ChannelError(code, f"{provider} had a temporary problem (HTTP {status})",
                            ErrorAction.RETRY, retry_after_seconds(response))
    if status in (401, 403):
        return ChannelError(code, f"{provider} rejected our credentials (HTTP {status}); "
                            "update the channel's credentials", ErrorAction.CHANNEL_BROKEN)
    if status in (404, 410):
        return ChannelError(code, f"{provider} says the endpoint does not exist (HTTP {status}); "
                            "check the channel's URL", ErrorAction.CHANNEL_BROKEN)
    return ChannelError(code, f"{provider} refused the message (HTTP {status})", ErrorAction.FAIL)


# Enough keep-alive connections for every delivery thread (DeliveryConfig.concurrency) to
# keep its own to each provider origin; httpx pools per origin inside one client.
POOL_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=32,
                           keepalive_expiry=30.0)


class PooledClient:
    """One pooled ``httpx.Client`` per adapter, created on first use. Creating a client per
    call would rebuild the TLS context (tens of milliseconds) and drop keep-alive connections,
    which matters at 80 messages per second. The adapters are process-wide (one instance per
    kind in :mod:`cauce.channels.registry`), so this is the process's pool for that channel
    kind; ``registry.close_all()`` closes it when the runtime stops. Timeouts are passed per
    request, so one client serves every channel config whatever its ``timeout_seconds``."""

    def __init__(self, transport: httpx.BaseTransport | None = None) -> None:
        self._transport = transport
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    @property
    def client(self) -> httpx.Client:
        # Lock-free once created: every send of every delivery thread passes here, and the
        # profile of bench_pipeline showed the threads queueing on this lock.
        client = self._client
        if client is not None:
            return client
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(
                    transport=self._transport, timeout=DEFAULT_TIMEOUT_SECONDS,
                    limits=POOL_LIMITS,
                )
            return self._client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
