"""WhatsApp approved template with variables (may start a conversation: no window needed).

Quick-reply buttons declared here become exits of a following ``wait_for_reply`` whose
``message_node`` is this node.

Example:

    {
      "id": "reactivate",
      "type": "whatsapp_template",
      "config": {
        "name": "reactivacion",
        "language": "es",
        "body_params": [
          "{{ contact.first_name | default: \\"hola\\" }}"
        ],
        "buttons": [
          {
            "id": "yes",
            "title": "Sí, sigamos"
          },
          {
            "id": "later",
            "title": "Más adelante"
          }
        ]
      },
      "exits": {
        "next": null,
        "failed": null
      }
    }
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from cauce.flows.common import Problem
from cauce.flows.nodes._shared import TemplateRef, check_buttons, send
from cauce.flows.nodes.base import MESSAGE_EXITS, Node, Outcome

if TYPE_CHECKING:
    from cauce.engine.activation import Activation
    from cauce.flows.document import FlowDocument


class WhatsAppTemplateConfig(TemplateRef):
    pass


class WhatsAppTemplate(Node):
    type: Literal["whatsapp_template"]
    config: WhatsAppTemplateConfig

    category = "message"
    communication = True
    summary = "Send an approved WhatsApp template (works with the window closed)."

    def exit_names(self, flow: FlowDocument | None = None) -> list[str]:
        return list(MESSAGE_EXITS)

    def templates(self) -> list[tuple[str, str]]:
        return self.config.templates("config")

    def check(self, flow: FlowDocument) -> list[Problem]:
        return check_buttons(self, self.config.buttons, "config.buttons")

    def execute(self, act: Activation) -> Outcome:
        payload = self.config.render(act, self, "config")
        key = send(act, self, channel="whatsapp", kind="template", payload=payload)
        return Outcome.go("next" if key else "failed")
