"""A fake Twilio Messages API: records form posts, answers like Twilio (sid or error JSON)."""

from __future__ import annotations

import base64
from typing import Any

from tests.support.fakes.http import FakeServer, Recorded, Reply


class FakeTwilio(FakeServer):
    def __init__(self, account_sid: str = "AC" + "0" * 32, auth_token: str = "tw-token") -> None:
        super().__init__()
        self.account_sid = account_sid
        self.auth_token = auth_token
        self._script: list[Reply] = []
        self._n = 0

    def fail_next(self, status: int, code: int, message: str = "error") -> None:
        self._script.append(Reply(status, {"code": code, "message": message,
                                           "more_info": f"https://www.twilio.com/docs/errors/{code}",
                                           "status": status}))

    def messages(self) -> list[dict[str, str]]:
        return [r.form() for r in self.requests_to("/Messages.json")]

    def handle(self, request: Recorded) -> Reply:
        expected = "Basic " + base64.b64encode(
            f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if request.headers.get("authorization") != expected:
            return Reply(401, {"code": 20003, "message": "Authenticate", "status": 401})
        if not request.path.endswith(f"/Accounts/{self.account_sid}/Messages.json"):
            return Reply(404, {"code": 20404, "message": "not found", "status": 404})
        if self._script:
            return self._script.pop(0)
        form = request.form()
        self._n += 1
        body: dict[str, Any] = {"sid": f"SM{self._n:032d}", "status": "queued",
                                "to": form.get("To"), "from": form.get("From"),
                                "body": form.get("Body")}
        return Reply(201, body)
