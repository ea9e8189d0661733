"""A fake WhatsApp Graph API: sends, media, message templates.

- every request is recorded (``requests``, ``sent_bodies()``);
- ``fail_next(code, times=1)`` answers the next sends with a Meta error (any reference code;
  the HTTP status follows Meta: 130429 → 429, 190 → 401, 131000/2 → 500, others → 400);
- ``flaky(rate, seed)`` answers a fraction of sends with 429 or 5xx, at random but repeatably;
- ``accepted`` counts accepted bodies, so a test can prove nothing was delivered twice
  (``duplicates()``); ``templates`` and ``media`` serve the other Graph calls.
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from typing import Any

from tests.support.fakes.http import FakeServer, Recorded, Reply

SAMPLE_ERRORS: dict[int, tuple[int, str]] = {
    131047: (400, "Re-engagement message"),
    131026: (400, "Message undeliverable"),
    130429: (429, "Rate limit hit"),
    131056: (400, "(Business Account, Consumer Account) pair rate limit hit"),
    131049: (400, "This message was not delivered to maintain healthy ecosystem engagement."),
    131050: (400, "User has stopped marketing messages"),
    132000: (400, "Number of parameters does not match the expected number of params"),
    132001: (404, "Template name does not exist in the translation"),
    132015: (400, "Template is paused"),
    132016: (400, "Template is disabled"),
    131000: (500, "Something went wrong"),
    2: (503, "Service temporarily unavailable"),
    190: (401, "Error validating access token: Session has expired."),
}


def error_body(code: int) -> tuple[int, dict[str, Any]]:
    status, title = SAMPLE_ERRORS.get(code, (400, "Error"))
    return status, {"error": {"message": f"(#{code}) {title}", "type": "OAuthException",
                              "code": code, "error_data": {"messaging_product": "whatsapp",
                                                           "details": title},
                              "fbtrace_id": "Afake"}}


class FakeGraphApi(FakeServer):
    def __init__(self, version: str = "v23.0") -> None:
        super().__init__()
        self.version = version
        self._script: list[tuple[int, dict[str, Any], dict[str, str]]] = []
        self._rate = 0.0
        self._random = random.Random(0)
        self._flaky_lock = threading.Lock()
        self.accepted: Counter[str] = Counter()
        self._counter = 0
        self.templates: list[dict[str, Any]] = []
        self.media: dict[str, tuple[bytes, str]] = {}
        self.retry_after: str | None = None
        self.template_page_size = 2

    # ---- configuration ----------------------------------------------------------------------

    def fail_next(self, code: int, times: int = 1, headers: dict[str, str] | None = None) -> None:
        status, body = error_body(code)
        self._script.extend([(status, body, headers or {})] * times)

    def fail_next_raw(self, status: int, body: Any = "", times: int = 1,
                      headers: dict[str, str] | None = None) -> None:
        self._script.extend([(status, body, headers or {})] * times)

    def flaky(self, rate: float, seed: int = 0) -> None:
        self._rate = rate
        self._random = random.Random(seed)

    # ---- what happened ----------------------------------------------------------------------

    def sends(self) -> list[Recorded]:
        return self.requests_to("/messages")

    def sent_bodies(self) -> list[dict[str, Any]]:
        return [r.json() for r in self.sends()]

    def duplicates(self) -> dict[str, int]:
        return {body: n for body, n in self.accepted.items() if n > 1}

    # ---- answers ----------------------------------------------------------------------------

    def handle(self, request: Recorded) -> Reply:
        parts = [p for p in request.path.split("/") if p]
        if not parts or parts[0] != self.version:
            return Reply(400, {"error": {"message": f"unknown version {parts[:1]}",
                                         "type": "GraphMethodException", "code": 2500}})
        if request.headers.get("authorization", "") in ("", "Bearer "):
            return Reply(*error_body(190))
        if request.method == "POST" and parts[-1] == "messages":
            return self._send(request)
        if request.method == "GET" and parts[-1] == "message_templates":
            return self._templates(request)
        if request.method == "GET" and len(parts) == 2 and parts[1] in self.media:
            return Reply(200, {"url": f"{self.url}/{self.version}/download/{parts[1]}",
                               "mime_type": self.media[parts[1]][1], "id": parts[1],
                               "messaging_product": "whatsapp"})
        if request.method == "GET" and len(parts) == 3 and parts[1] == "download":
            content, mime = self.media.get(parts[2], (b"", ""))
            return Reply(200, content, {"Content-Type": mime})
        return Reply(404, {"error": {"message": "Unsupported request", "code": 100}})

    def _send(self, request: Recorded) -> Reply:
        with self._flaky_lock:
            if self._script:
                status, body, headers = self._script.pop(0)
                return Reply(status, body, headers)
            if self._rate and self._random.random() < self._rate:
                if self._random.random() < 0.5:
                    headers = {"Retry-After": self.retry_after} if self.retry_after else {}
                    return Reply(*error_body(130429), headers)
                return Reply(503, "<html>Service Unavailable</html>")
            canonical = json.dumps(request.json(), sort_keys=True)
            self.accepted[canonical] += 1
            self._counter += 1
            wamid = f"wamid.FAKE{self._counter:08d}"
        to = request.json().get("to", "")
        return Reply(200, {"messaging_product": "whatsapp",
                           "contacts": [{"input": to, "wa_id": to}],
                           "messages": [{"id": wamid, "message_status": "accepted"}]})

    def _templates(self, request: Recorded) -> Reply:
        after = int(request.query.get("after", ["0"])[0])
        # Meta pages long lists; a small page size here makes the client follow paging.next.
        limit = min(int(request.query.get("limit", ["25"])[0]), self.template_page_size)
        page = self.templates[after:after + limit]
        body: dict[str, Any] = {"data": page, "paging": {"cursors": {}}}
        if after + limit < len(self.templates):
            body["paging"]["next"] = (f"{self.url}{request.path}?limit={limit}"
                                      f"&after={after + limit}")
        return Reply(200, body)
