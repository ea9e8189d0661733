"""HTTP plumbing shared by the adapters that speak HTTP: pooled clients, timeouts,
Retry-After, and turning transport failures into :class:`ChannelError` values instead of
exceptions.

Two clients, one behaviour:

- :class:`HttpClient` (blocking) is urllib3's ``PoolManager`` (the connection pool under
  ``requests``): about 0.3–0.4 ms of CPU per call from delivery's threads, against ~1.1 ms
  through ``httpx.Client``.
- :class:`AsyncHttpClient` is aiohttp's ``ClientSession`` on the process's send loop
  (:func:`send_loop`): delivery's provider calls for a whole batch run there concurrently on
  one thread, about 0.13 ms of CPU per call (docs/benchmarks.md, "provider calls"): no thread
  hand-offs, and aiohttp parses responses in C (llhttp). ``httpx.AsyncClient`` measured
  ~1.9 ms per call on the same bench, which is why the async path is not httpx.

Every call carries a connect and a read timeout, and nothing is retried or redirected here:
retries are delivery's (backoff, ``Retry-After``, the circuit breaker), and a retry below it
could send a WhatsApp message twice (aiohttp re-sends on a stale keep-alive connection only for
idempotent methods; sends are POSTs).
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import os
import ssl
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import urlencode

import aiohttp
import urllib3
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import NewConnectionError
from urllib3.exceptions import TimeoutError as Urllib3Timeout

from cauce.channels.base import ChannelError, ErrorAction

DEFAULT_TIMEOUT_SECONDS = 10.0
# Connecting should be quick; a provider that accepted the connection may take longer to answer.
CONNECT_TIMEOUT_SECONDS = 5.0
# Keep-alive connections kept per provider origin by the blocking client: one for every
# delivery thread; more are opened when needed and closed after use.
POOL_CONNECTIONS_PER_HOST = 32
# The async client's cap per origin: the lanes a delivery batch calls at once
# (DeliveryConfig.concurrency, a quarter of 256); more calls wait for a free connection.
ASYNC_CONNECTIONS_PER_HOST = 64


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


@dataclass(frozen=True)
class Timeout:
    """A call's connect and read timeouts in seconds (either client turns it into its own)."""

    connect: float
    read: float


def timeout_from(config: dict[str, Any]) -> Timeout:
    """Per-call timeout from a channel config (``timeout_seconds``), never unbounded."""
    seconds = float(config.get("timeout_seconds") or DEFAULT_TIMEOUT_SECONDS)
    return Timeout(connect=min(CONNECT_TIMEOUT_SECONDS, seconds), read=seconds)


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


def _encode(
    url: str, json: Any, data: dict[str, str] | None, content: bytes | None,
    headers: dict[str, str] | None, params: dict[str, Any] | None,
    auth: tuple[str, str] | None,
) -> tuple[str, bytes | None, dict[str, str]]:
    """The URL, body and headers of a request, the same for both clients."""
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
    return url, body, sent_headers


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
        self, method: str, url: str, *, timeout: Timeout,
        json: Any = None, data: dict[str, str] | None = None, content: bytes | None = None,
        headers: dict[str, str] | None = None, params: dict[str, Any] | None = None,
        auth: tuple[str, str] | None = None,
    ) -> HttpResponse:
        url, body, sent_headers = _encode(url, json, data, content, headers, params, auth)
        try:
            response = self._manager.request(
                method, url, body=body, headers=sent_headers, retries=False, redirect=False,
                timeout=urllib3.Timeout(connect=timeout.connect, read=timeout.read))
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


# ---------------------------------------------------------------------- asynchronous sends

T = TypeVar("T")


class SendLoop:
    """The process's event loop for provider calls, on a daemon thread of its own, started on
    first use. Delivery runs a claimed batch's calls on it concurrently (one thread, no pool
    hand-offs); the aiohttp sessions of the adapters live on it, so their keep-alive
    connections serve every batch and every ``Delivery`` of the process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def loop(self) -> asyncio.AbstractEventLoop:
        loop = self._loop
        if loop is not None:
            return loop
        with self._lock:
            if self._loop is None:
                ready = threading.Event()
                new = asyncio.new_event_loop()

                def run() -> None:
                    asyncio.set_event_loop(new)
                    new.call_soon(ready.set)
                    new.run_forever()

                self._thread = threading.Thread(target=run, name="cauce-send-loop", daemon=True)
                self._thread.start()
                ready.wait()
                self._loop = new
            return self._loop

    def in_loop(self) -> bool:
        return self._thread is not None and threading.current_thread() is self._thread

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the loop and wait for its result (from any other thread)."""
        if self.in_loop():
            coro.close()
            raise RuntimeError("SendLoop.run() called from the send loop itself")
        return asyncio.run_coroutine_threadsafe(coro, self.loop()).result()

    def _after_fork(self) -> None:
        # A forked child has the loop object but not its thread: start afresh on first use.
        self._lock = threading.Lock()
        self._loop = self._thread = None


_SEND_LOOP = SendLoop()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_SEND_LOOP._after_fork)


def send_loop() -> SendLoop:
    """The process-wide :class:`SendLoop`."""
    return _SEND_LOOP


class AsyncHttpClient:
    """:class:`HttpClient`'s asynchronous twin on one event loop (aiohttp): same requests,
    same :class:`HttpResponse`, same :class:`TransportError` for answers that never came."""

    def __init__(self) -> None:
        context = ssl.create_default_context(cafile=_ca_bundle())
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0, limit_per_host=ASYNC_CONNECTIONS_PER_HOST,
                                           ssl=context),
            cookie_jar=aiohttp.DummyCookieJar(),  # urllib3 keeps none either
            timeout=aiohttp.ClientTimeout(total=None, connect=CONNECT_TIMEOUT_SECONDS,
                                          sock_read=DEFAULT_TIMEOUT_SECONDS))
        self.loop = asyncio.get_running_loop()

    async def request(
        # Connect and read limits, not one total deadline (what asyncio.timeout gives).
        self, method: str, url: str, *, timeout: Timeout,  # noqa: ASYNC109
        json: Any = None, data: dict[str, str] | None = None, content: bytes | None = None,
        headers: dict[str, str] | None = None, params: dict[str, Any] | None = None,
        auth: tuple[str, str] | None = None,
    ) -> HttpResponse:
        url, body, sent_headers = _encode(url, json, data, content, headers, params, auth)
        # ``connect`` bounds waiting for a pooled connection plus opening one.
        limits = aiohttp.ClientTimeout(total=None, connect=timeout.connect,
                                       sock_connect=timeout.connect, sock_read=timeout.read)
        try:
            async with self._session.request(method, url, data=body, headers=sent_headers,
                                             timeout=limits, allow_redirects=False) as response:
                return HttpResponse(response.status, response.headers, await response.read())
        except TimeoutError as exc:  # aiohttp's connect and read timeouts are TimeoutErrors
            raise TransportError(type(exc).__name__, timeout=True) from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise TransportError(type(exc).__name__, timeout=False) from exc

    async def post(self, url: str, **kwargs: Any) -> HttpResponse:
        return await self.request("POST", url, **kwargs)

    async def close(self) -> None:
        await self._session.close()


class AsyncPooledClient:
    """One :class:`AsyncHttpClient` per adapter, created on first use on the loop that calls
    (the send loop, in practice); ``close()`` may be called from any thread."""

    def __init__(self) -> None:
        self._client: AsyncHttpClient | None = None
        self._lock = threading.Lock()

    def client(self) -> AsyncHttpClient:
        """The client for the running loop (call from a coroutine)."""
        client = self._client
        if client is not None and client.loop is asyncio.get_running_loop():
            return client
        with self._lock:
            old, self._client = self._client, AsyncHttpClient()
        if old is not None:  # another loop's (a test's): release it there when we can
            _close_on_its_loop(old)
        return self._client

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            _close_on_its_loop(client)


def _close_on_its_loop(client: AsyncHttpClient) -> None:
    loop = client.loop
    if loop.is_closed():
        return
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        loop.create_task(client.close())
    elif loop.is_running():
        asyncio.run_coroutine_threadsafe(client.close(), loop).result(timeout=10)
