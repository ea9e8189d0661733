"""A small OpenAI-compatible chat-completions server on 127.0.0.1 for the LLM tests (real HTTP)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    content: str | None = None  # the assistant message; None with status 200 -> bad shape
    hang: bool = False  # never answer until the test releases the server


@dataclass
class FakeLlm:
    url: str
    replies: list[Reply]
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)


@contextmanager
def fake_llm(replies: list[Reply] | Callable[[dict[str, Any]], Reply]) -> Iterator[FakeLlm]:
    """Serve ``replies`` in order (the last one repeats), or compute each from the request."""
    state = FakeLlm(url="", replies=replies if isinstance(replies, list) else [])

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.requests.append(body)
            state.headers.append(dict(self.headers))
            if callable(replies):
                reply = replies(body)
            else:
                reply = replies[min(len(state.requests) - 1, len(replies) - 1)]
            if self.path != "/v1/chat/completions":
                reply = Reply(status=404, content="not found")
            if reply.hang:
                state.release.wait(10)
                return
            if reply.status == 200 and reply.content is not None:
                payload: dict[str, Any] = {
                    "id": "chatcmpl-test", "object": "chat.completion",
                    "choices": [{"index": 0, "message": {"role": "assistant",
                                                         "content": reply.content}}],
                }
            else:
                payload = {"error": {"message": "fake failure"}}
            data = json.dumps(payload).encode()
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)
