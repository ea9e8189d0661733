"""HTTP request steps, executed by the runtime on a flow's behalf.

A flow is written by users, so its URLs are untrusted: without a guard a flow could reach the
server's own admin ports, the cloud metadata service or the office network (SSRF). Every
address a host name resolves to must be public unless the workspace allows that host
explicitly (``workspace.settings["http_allowed_hosts"]``); the connection then goes to the
address that was checked, so a DNS answer that changes between check and connect (rebinding)
cannot redirect it. Responses are capped in size and every call has a timeout.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from cauce import limits

Resolver = Callable[[str, int], list[str]]


class Refused(Exception):
    """The request may not be made; ``str(exc)`` says why, for the step log."""


@dataclass
class HttpResult:
    ok: bool
    status: int | None = None
    data: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    retryable: bool = False
    retry_after: float | None = None


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def check_target(
    url: str, allowed_hosts: list[str], resolve: Resolver = system_resolver
) -> tuple[str, str, int]:
    """Validate ``url`` and return (scheme, checked address, port), or raise :class:`Refused`."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise Refused(f"only http and https URLs may be called, not '{parts.scheme}'")
    host = (parts.hostname or "").lower()
    if not host:
        raise Refused("the URL has no host")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError) as exc:
        raise Refused(f"cannot resolve host '{host}': {exc}") from None
    if not addresses:
        raise Refused(f"host '{host}' has no address")
    allowed = host in {h.lower() for h in allowed_hosts}
    if not allowed:
        for raw in addresses:
            address = ipaddress.ip_address(raw.split("%", 1)[0])
            if not address.is_global or address.is_multicast:
                raise Refused(
                    f"host '{host}' resolves to the non-public address {address} "
                    "(loopback, link-local and private networks are refused); an admin can "
                    "allow this host in the workspace's HTTP settings"
                )
    return parts.scheme, addresses[0], port


def perform(
    method: str, url: str, headers: dict[str, str], body: str | None, timeout: float,
    allowed_hosts: list[str], *, resolve: Resolver = system_resolver,
    transport: httpx.BaseTransport | None = None,
) -> HttpResult:
    """Make the request; never raises for network or policy problems."""
    try:
        scheme, address, port = check_target(url, allowed_hosts, resolve)
    except Refused as exc:
        return HttpResult(ok=False, error=f"refused: {exc}")
    timeout = min(max(timeout, 0.1), limits.HTTP_STEP_TIMEOUT_SECONDS * 3)
    parts = urlsplit(url)
    host = parts.hostname or ""
    request_headers = dict(headers)
    request_headers.setdefault("User-Agent", "Cauce")
    target = url
    extensions: dict[str, Any] = {}
    if scheme == "http" and transport is None:
        # Connect to the checked address; keep the Host header for virtual hosting.
        netloc = f"[{address}]" if ":" in address else address
        target = parts._replace(netloc=f"{netloc}:{port}").geturl()
        request_headers["Host"] = host if parts.port is None else f"{host}:{parts.port}"
    elif scheme == "https" and transport is None:
        # TLS verifies the certificate against the name, so pinning the address is done
        # through SNI: connect to the address, present the host name.
        netloc = f"[{address}]" if ":" in address else address
        target = parts._replace(netloc=f"{netloc}:{port}").geturl()
        request_headers["Host"] = host if parts.port is None else f"{host}:{parts.port}"
        extensions["sni_hostname"] = host
    try:
        with httpx.Client(timeout=timeout, transport=transport, follow_redirects=False) as client:
            request = client.build_request(method.upper(), target, headers=request_headers,
                                           content=body, extensions=extensions)
            response = client.send(request, stream=True)
            try:
                chunks: list[bytes] = []
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > limits.HTTP_STEP_MAX_RESPONSE_BYTES:
                        return HttpResult(
                            ok=False, status=response.status_code,
                            error=f"response larger than {limits.HTTP_STEP_MAX_RESPONSE_BYTES}"
                                  " bytes",
                        )
                    chunks.append(chunk)
            finally:
                response.close()
            raw = b"".join(chunks)
            status = response.status_code
            retry_after = _retry_after(response.headers.get("retry-after"))
    except httpx.TimeoutException:
        return HttpResult(ok=False, error=f"no answer within {timeout:g} s", retryable=True)
    except httpx.HTTPError as exc:
        return HttpResult(ok=False, error=f"request failed: {type(exc).__name__}: {exc}",
                          retryable=True)
    data: dict[str, Any] = {"status": status}
    text = raw.decode("utf-8", errors="replace")
    try:
        data["json"] = json.loads(text) if text else None
    except ValueError:
        data["text"] = text
    if 200 <= status < 300:
        return HttpResult(ok=True, status=status, data=data)
    retryable = status == 429 or status >= 500
    return HttpResult(ok=False, status=status, data=data, error=f"HTTP {status}",
                      retryable=retryable, retry_after=retry_after)


def _retry_after(raw: str | None) -> float | None:
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None
