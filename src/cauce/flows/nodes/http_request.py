"""Call an HTTP endpoint (templated method, URL, headers, body). The runtime performs the
call and resumes the run: ``success`` (2xx) saves the response as ``results.<save_as>``
(``status``, ``body``, ``json``), ``failed`` otherwise.

Example:

    {
      "id": "crm",
      "type": "http_request",
      "config": {
        "method": "GET",
        "url": "https://crm.example.com/api/contacts?phone={{ contact.phone }}",
        "save_as": "crm"
      },
      "exits": {
        "success": null,
        "failed": null
      }
    }
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from cauce.engine.types import HttpRequested, WaitState
from cauce.flows.common import Strict
from cauce.flows.nodes._shared import activity_result, request_activity
from cauce.flows.nodes.base import Node, Outcome
from cauce.limits import HTTP_STEP_TIMEOUT_SECONDS

if TYPE_CHECKING:
    from cauce.engine.activation import Activation
    from cauce.flows.document import FlowDocument
    from cauce.flows.nodes.base import InputT


class HttpRequestConfig(Strict):
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "POST"
    url: str = Field(min_length=1)
    headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = None
    save_as: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_]+$")
    timeout_seconds: float = Field(default=HTTP_STEP_TIMEOUT_SECONDS, gt=0,
                                   le=HTTP_STEP_TIMEOUT_SECONDS * 6)


class HttpRequest(Node):
    type: Literal["http_request"]
    config: HttpRequestConfig

    category = "data"
    summary = "Call an HTTP API and save the answer."

    def exit_names(self, flow: FlowDocument | None = None) -> list[str]:
        return ["success", "failed"]

    def templates(self) -> list[tuple[str, str]]:
        out = [("config.url", self.config.url)]
        out += [(f"config.headers.{k}", v) for k, v in self.config.headers.items()]
        return out + ([("config.body", self.config.body)] if self.config.body else [])

    def execute(self, act: Activation) -> Outcome:
        rendered = {field: act.render(self, field, source) for field, source in self.templates()}
        if None in rendered.values():
            return Outcome.go("failed")
        headers = {k: str(rendered[f"config.headers.{k}"]) for k in self.config.headers}
        return request_activity(act, self, HttpRequested(
            activity_id=act.new_id(), node_id=self.id, method=self.config.method,
            url=str(rendered["config.url"]), headers=headers,
            body=rendered.get("config.body"), timeout_seconds=self.config.timeout_seconds))

    def on_input(self, act: Activation, wait: WaitState, inp: InputT) -> Outcome | None:
        result = activity_result(wait, inp)
        if result is None:
            return None
        act.save_result(self, self.config.save_as, result.data)
        if not result.ok:
            act.error(self, "http_failed", result.error or "the request failed", "config.url")
            return Outcome.go("failed")
        return Outcome.go("success")
