"""Wait for the contact's reply. The timeout counts from the delivery of the message the
reply is to (``message_node``, default: the last message this run sent), or from entering
the step (``count_from: entry``). Exits: ``replied``, ``timeout``, one per quick-reply
button of ``message_node``, and one per keyword route.

Example:

    {
      "id": "await",
      "type": "wait_for_reply",
      "config": {
        "timeout": "7d",
        "message_node": "reactivate",
        "keywords": [
          {
            "exit": "stop",
            "words": [
              "baja",
              "stop"
            ]
          }
        ]
      },
      "exits": {
        "replied": null,
        "timeout": null,
        "yes": null,
        "later": null,
        "stop": null
      }
    }
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from cauce.engine.types import WaitState
from cauce.flows.common import Duration, Problem, Strict
from cauce.flows.nodes._shared import (
    RESERVED_EXITS,
    KeywordRoute,
    reply_on_input,
    start_reply_wait,
)
from cauce.flows.nodes.base import Node, Outcome

if TYPE_CHECKING:
    from cauce.engine.activation import Activation
    from cauce.flows.document import FlowDocument
    from cauce.flows.nodes.base import InputT


class WaitForReplyConfig(Strict):
    timeout: Duration | None = None
    count_from: Literal["delivery", "entry"] = "delivery"
    message_node: str | None = None
    keywords: list[KeywordRoute] = Field(default_factory=list)


class WaitForReply(Node):
    type: Literal["wait_for_reply"]
    config: WaitForReplyConfig

    category = "wait"
    waits = True
    summary = "Wait for the contact's reply (with a timeout), branching per button/keyword."

    def _button_ids(self, flow: FlowDocument | None) -> list[str]:
        if flow is None or self.config.message_node is None:
            return []
        node = flow.node(self.config.message_node)
        buttons = getattr(getattr(node, "config", None), "buttons", None) or []
        return [b.id for b in buttons]

    def exit_names(self, flow: FlowDocument | None = None) -> list[str]:
        names = ["replied", "timeout", *self._button_ids(flow)]
        return names + [k.exit for k in self.config.keywords if k.exit not in names]

    def check(self, flow: FlowDocument) -> list[Problem]:
        problems = []
        ref = self.config.message_node
        if ref is not None and (flow.node(ref) is None
                                or getattr(flow.node(ref), "category", "") != "message"):
            problems.append(self.problem("bad_message_node",
                                         f"'{ref}' is not a message node of this flow",
                                         "config.message_node"))
        for i, k in enumerate(self.config.keywords):
            if k.exit in RESERVED_EXITS:
                problems.append(self.problem("reserved_exit_name",
                                             f"'{k.exit}' is a reserved exit name",
                                             f"config.keywords.{i}.exit"))
        return problems

    def execute(self, act: Activation) -> Outcome:
        key = act.last_message_key(self.config.message_node)
        routes = {b: b for b in self._button_ids(act.flow)}
        for k in self.config.keywords:
            routes.update({f"kw:{w.casefold().strip()}": k.exit for w in k.words})
        return start_reply_wait(act, self, message_key=key, timeout=self.config.timeout,
                                routes=routes, count_from=self.config.count_from)

    def on_input(self, act: Activation, wait: WaitState, inp: InputT) -> Outcome | None:
        return reply_on_input(act, self, wait, inp)
