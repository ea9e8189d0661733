"""WhatsApp text message (free-form: needs the 24-hour window, or a template fallback).

Example:

    {
      "id": "hello",
      "type": "whatsapp_text",
      "config": {
        "text": "Hola {{ contact.first_name | default: \\"hola\\" }} 👋"
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

from cauce.flows.common import Problem, Strict
from cauce.flows.nodes._shared import TemplateRef, send
from cauce.flows.nodes.base import MESSAGE_EXITS, Node, Outcome
from cauce.limits import WHATSAPP_TEXT_MAX

if TYPE_CHECKING:
    from cauce.engine.activation import Activation
    from cauce.flows.document import FlowDocument


class WhatsAppTextConfig(Strict):
    text: str = Field(min_length=1)
    preview_url: bool = False
    fallback_template: TemplateRef | None = None  # sent instead when the window is closed


class WhatsAppText(Node):
    type: Literal["whatsapp_text"]
    config: WhatsAppTextConfig

    category = "message"
    communication = True
    free_form_whatsapp = True
    summary = "Send a WhatsApp text message."

    def exit_names(self, flow: FlowDocument | None = None) -> list[str]:
        return list(MESSAGE_EXITS)

    def templates(self) -> list[tuple[str, str]]:
        fb = self.config.fallback_template
        return [("config.text", self.config.text),
                *(fb.templates("config.fallback_template") if fb else [])]

    def check(self, flow: FlowDocument) -> list[Problem]:
        if len(self.config.text) > WHATSAPP_TEXT_MAX:
            return [self.problem("text_too_long",
                                 f"text over {WHATSAPP_TEXT_MAX} characters", "config.text")]
        return []

    def execute(self, act: Activation) -> Outcome:
        text = act.render(self, "config.text", self.config.text)
        payload = None if text is None else {"text": text, "preview_url": self.config.preview_url}
        key = send(act, self, channel="whatsapp", kind="text", payload=payload,
                   fallback=self.config.fallback_template)
        return Outcome.go("next" if key else "failed")
