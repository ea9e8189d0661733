"""A real HTTP server on 127.0.0.1 for tests that need a provider or a target to call."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# (method, path, body) -> (status, headers, body)
Responder = Callable[[str, str, bytes], tuple[int, dict[str, str], bytes]]


class Recorder:
    def __init__(self, respond: Responder) -> None:
        self.respond = respond
        self.requests: list[tuple[str, str, bytes]] = []
        self.lock = threading.Lock()


@contextmanager
def serve(respond: Responder) -> Iterator[tuple[str, Recorder]]:
    """Run a server answering with ``respond``; yields (base URL, recorder)."""
    recorder = Recorder(respond)

    class Handler(BaseHTTPRequestHandler):
        def _any(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            with recorder.lock:
                recorder.requests.append((self.command, self.path, body))
            status, headers, payload = recorder.respond(self.command, self.path, body)
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _any

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", recorder
    finally:
        server.shutdown()
        server.server_close()


def json_answer(status: int, data: Any, headers: dict[str, str] | None = None) -> Responder:
    body = json.dumps(data).encode()

    def respond(_m: str, _p: str, _b: bytes) -> tuple[int, dict[str, str], bytes]:
        return status, {"content-type": "application/json", **(headers or {})}, body

    return respond
