"""SMS text message.

Example:

    {
      "id": "last_call",
      "type": "sms",
      "config": {
        "text": "Último aviso: tu carrito vence hoy."
      },
      "exits": {
        "next": null,
        "failed": null
      }
    }
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from cauce.flows.common import Strict
from cauce.flows.nodes._shared import send
from cauce.flows.nodes.base import MESSAGE_EXITS, Node, Outcome

if TYPE_CHECKING:
    from cauce.engine.activation import Activation
    from cauce.flows.document import FlowDocument


class SmsConfig(Strict):
    text: str = Field(min_length=1)


class Sms(Node):
    type: Literal["sms"]
    config: SmsConfig

    category = "message"
    communication = True
    summary = "Send an SMS."

    def exit_names(self, flow: FlowDocument | None = None) -> list[str]:
        return list(MESSAGE_EXITS)

    def templates(self) -> list[tuple[str, str]]:
        return [("config.text", self.config.text)]

    def execute(self, act: Activation) -> Outcome:
        text = act.render(self, "config.text", self.config.text)
        if text is not None and not act.contact.phone:
            act.error(self, "no_phone", "the contact has no phone number")
            return Outcome.go("failed")
        key = send(act, self, channel="sms", kind="sms",
                   payload=None if text is None else {"text": text})
        return Outcome.go("next" if key else "failed")
