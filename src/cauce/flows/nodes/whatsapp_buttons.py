"""WhatsApp reply buttons: asks and waits. One exit per button id, plus ``replied`` (any
other answer), ``timeout`` (counted from delivery) and ``failed`` (undeliverable).

Example:

    {
      "id": "menu",
      "type": "whatsapp_buttons",
      "config": {
        "body": "¿Qué te interesa?",
        "buttons": [
          {
            "id": "buy",
            "title": "Comprar ahora"
          },
          {
            "id": "sales",
            "title": "Asesor comercial"
          },
          {
            "id": "support",
            "title": "Soporte"
          }
        ],
        "timeout": "1d"
      },
      "exits": {
        "buy": null,
        "sales": null,
        "support": null,
        "replied": null,
        "timeout": null,
        "failed": null
      }
    }
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from cauce.engine.types import WaitState
from cauce.flows.common import Duration, Problem, Strict
from cauce.flows.nodes._shared import (
    ReplyButton,
    TemplateRef,
    check_buttons,
    reply_on_input,
    send,
    start_reply_wait,
)
from cauce.flows.nodes.base import Node, Outcome
from cauce.limits import WHATSAPP_FOOTER_MAX, WHATSAPP_INTERACTIVE_BODY_MAX

if TYPE_CHECKING:
    from cauce.engine.activation import Activation
    from cauce.flows.document import FlowDocument
    from cauce.flows.nodes.base import InputT


class WhatsAppButtonsConfig(Strict):
    body: str = Field(min_length=1)
    header: str | None = None
    footer: str | None = None
    buttons: list[ReplyButton] = Field(min_length=1)
    timeout: Duration | None = None
    fallback_template: TemplateRef | None = None


class WhatsAppButtons(Node):
    type: Literal["whatsapp_buttons"]
    config: WhatsAppButtonsConfig

    category = "message"
    waits = True
    communication = True
    free_form_whatsapp = True
    summary = "Ask with up to 3 reply buttons and wait for the answer."

    def exit_names(self, flow: FlowDocument | None = None) -> list[str]:
        return [b.id for b in self.config.buttons] + ["replied", "timeout", "failed"]

    def templates(self) -> list[tuple[str, str]]:
        out = [("config.body", self.config.body)]
        out += [(f"config.{k}", v) for k in ("header", "footer")
                if (v := getattr(self.config, k)) is not None]
        fb = self.config.fallback_template
        return out + (fb.templates("config.fallback_template") if fb else [])

    def check(self, flow: FlowDocument) -> list[Problem]:
        problems = check_buttons(self, self.config.buttons, "config.buttons")
        if len(self.config.body) > WHATSAPP_INTERACTIVE_BODY_MAX:
            problems.append(self.problem(
                "body_too_long", f"body over {WHATSAPP_INTERACTIVE_BODY_MAX} characters",
                "config.body"))
        if self.config.footer and len(self.config.footer) > WHATSAPP_FOOTER_MAX:
            problems.append(self.problem(
                "footer_too_long", f"footer over {WHATSAPP_FOOTER_MAX} characters",
                "config.footer"))
        return problems

    def execute(self, act: Activation) -> Outcome:
        parts = {k: act.render(self, f"config.{k}", v) for k, v in
                 (("body", self.config.body), ("header", self.config.header),
                  ("footer", self.config.footer)) if v is not None}
        payload = None if None in parts.values() else {
            "body": parts["body"], "header": parts.get("header"), "footer": parts.get("footer"),
            "buttons": [{"id": b.id, "title": b.title} for b in self.config.buttons]}
        key = send(act, self, channel="whatsapp", kind="buttons", payload=payload,
                   fallback=self.config.fallback_template)
        if key is None:
            return Outcome.go("failed")
        return start_reply_wait(act, self, message_key=key, timeout=self.config.timeout,
                                routes={b.id: b.id for b in self.config.buttons})

    def on_input(self, act: Activation, wait: WaitState, inp: InputT) -> Outcome | None:
        return reply_on_input(act, self, wait, inp)
