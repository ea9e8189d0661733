"""HTTP plumbing shared by the adapters that speak HTTP: one pooled client, timeouts,
Retry-After, and turning transport failures into :class:`ChannelError` values instead of
exceptions.

The client is urllib3's ``PoolManager`` (the connection pool under ``requests``): a send costs
about 0.4 ms of CPU through it against about 1.1 ms through ``httpx.Client`` with the delivery
threads running (docs/benchmarks.md, "provider calls"), and three sends per inbound message made
the HTTP client half of the runtime's CPU. Every call carries a connect and a read timeout, and
nothing is retried or redirected here: retries are delivery's (backoff, ``Retry-After``, the
circuit breaker), and a retry below it could send a WhatsApp message twice.
"""

from __future__ import annotations

import json as jsonlib
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode

import urllib3
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import NewConnectionError
from urllib3.exceptions import TimeoutError as Urllib3Timeout

from cauce.channels.base import ChannelError, ErrorAction

DEFAULT_TIMEOUT_SECONDS = 10.0
# Connecting should be quick; a provider that accepted the connection may take longer to answer.
CONNECT_TIMEOUT_SECONDS = 5.0
# Keep-alive connections kept per provider origin: one for every delivery thread
# (DeliveryConfig.concurrency); more are opened when needed and closed after use.
POOL_CONNECTIONS_PER_HOST = 32


class TransportError(Exception):
    """The request got no HTTP answer (refused, reset, timed out, bad TLS...)."""

    def __init__(self, message: str, *, timeout: bool) -> None:
        super().__init__(message)
        self.timeout = timeout


@dataclass(frozen=True)
class HttpResponse:
    status_code: int
    headers: Any  # urllib3's HTTPHeaderDict: case-insensitive
    content: bytes

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return jsonlib.loads(self.content)


def timeout_from(config: dict[str, Any]) -> urllib3.Timeout:
    """Per-call timeout from a channel config (``timeout_seconds``), never unbounded."""
    seconds = float(config.get("timeout_seconds") or DEFAULT_TIMEOUT_SECONDS)
    return urllib3.Timeout(connect=min(CONNECT_TIMEOUT_SECONDS, seconds), read=seconds)


def retry_after_seconds(response: HttpResponse, now: datetime | None = None) -> float | None:
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


def transport_error(exc: TransportError, provider: str) -> ChannelError:
    """A request that never got an answer: retry (the idempotency key guards duplicates)."""
    if exc.timeout:
        return ChannelError("timeout", f"{provider} did not answer in time", ErrorAction.RETRY)
    return ChannelError("network", f"could not reach {provider}: {exc}", ErrorAction.RETRY)


def json_or_empty(response: HttpResponse) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:  # not JSON (or not UTF-8)
        return {}
    return data if isinstance(data, dict) else {"value": data}


def status_error(response: HttpResponse, provider: str) -> ChannelError:
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


def _ca_bundle() -> str | None:
    """certifi's bundle (httpx, our other client, trusts it too), else the system's."""
    try:
        import certifi
    except ImportError:  # pragma: no cover - certifi comes with httpx
        return None
    return str(certifi.where())


class HttpClient:
    """A thread-safe pooled client: keep-alive connections per origin, shared by every
    delivery thread. Errors without an HTTP answer raise :class:`TransportError`."""

    def __init__(self) -> None:
        self._manager = urllib3.PoolManager(
            maxsize=POOL_CONNECTIONS_PER_HOST, ca_certs=_ca_bundle(),
            timeout=urllib3.Timeout(connect=CONNECT_TIMEOUT_SECONDS,
                                    read=DEFAULT_TIMEOUT_SECONDS),
            retries=False)

    def request(
        self, method: str, url: str, *, timeout: urllib3.Timeout,
        json: Any = None, data: dict[str, str] | None = None, content: bytes | None = None,
        headers: dict[str, str] | None = None, params: dict[str, Any] | None = None,
        auth: tuple[str, str] | None = None,
    ) -> HttpResponse:
        sent_headers = dict(headers or {})
        body: bytes | None = content
        if json is not None:
            body = jsonlib.dumps(json, ensure_ascii=False, separators=(",", ":")).encode()
            sent_headers.setdefault("Content-Type", "application/json")
        elif data is not None:
            body = urlencode(data).encode()
            sent_headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        if auth is not None:
            sent_headers.update(urllib3.make_headers(basic_auth=f"{auth[0]}:{auth[1]}"))
        if params:
            url = f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"
        try:
            response = self._manager.request(method, url, body=body, headers=sent_headers,
                                             timeout=timeout, retries=False, redirect=False)
        except NewConnectionError as exc:  # refused / unreachable (a ConnectTimeoutError
            # subclass in urllib3, for history's sake, but no timeout)
            raise TransportError(type(exc).__name__, timeout=False) from exc
        except Urllib3Timeout as exc:
            raise TransportError(type(exc).__name__, timeout=True) from exc
        except (Urllib3Error, OSError) as exc:
            raise TransportError(type(exc).__name__, timeout=False) from exc
        return HttpResponse(response.status, response.headers, response.data)

    def post(self, url: str, **kwargs: Any) -> HttpResponse:
        return self.request("POST", url, **kwargs)

    def get(self, url: str, **kwargs: Any) -> HttpResponse:
        return self.request("GET", url, **kwargs)

    def close(self) -> None:
        self._manager.clear()


class PooledClient:
    """One pooled :class:`HttpClient` per adapter, created on first use. Creating a client per
    call would rebuild the TLS context (tens of milliseconds) and drop keep-alive connections,
    which matters at 80 messages per second. The adapters are process-wide (one instance per
    kind in :mod:`cauce.channels.registry`), so this is the process's pool for that channel
    kind; ``registry.close_all()`` closes it when the runtime stops. Timeouts are passed per
    request, so one client serves every channel config whatever its ``timeout_seconds``."""

    def __init__(self) -> None:
        self._client: HttpClient | None = None
        self._lock = threading.Lock()

    @property
    def client(self) -> HttpClient:
        # Lock-free once created: every send of every delivery thread passes here, and the
        # profile of bench_pipeline showed the threads queueing on this lock.
        client = self._client
        if client is not None:
            return client
        with self._lock:
            if self._client is None:
                self._client = HttpClient()
            return self._client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
