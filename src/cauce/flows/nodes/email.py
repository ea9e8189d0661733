"""Email with subject, HTML and text bodies (to the contact's address unless ``to`` is set).

Example:

    {
      "id": "welcome_mail",
      "type": "email",
      "config": {
        "subject": "Bienvenido, {{ contact.first_name | default: \\"hola\\" }}",
        "text": "Gracias por escribirnos.",
        "html": "<p>Gracias por escribirnos.</p>"
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


class EmailConfig(Strict):
    subject: str = Field(min_length=1)
    text: str = Field(min_length=1)
    html: str | None = None
    to: str | None = None  # Liquid; default: the contact's email


class Email(Node):
    type: Literal["email"]
    config: EmailConfig

    category = "message"
    communication = True
    summary = "Send an email."

    def exit_names(self, flow: FlowDocument | None = None) -> list[str]:
        return list(MESSAGE_EXITS)

    def templates(self) -> list[tuple[str, str]]:
        c = self.config
        return [(f"config.{k}", v) for k, v in
                (("subject", c.subject), ("text", c.text), ("html", c.html), ("to", c.to))
                if v is not None]

    def execute(self, act: Activation) -> Outcome:
        rendered = {field[7:]: act.render(self, field, source)
                    for field, source in self.templates()}
        to = rendered.get("to") if self.config.to else act.contact.email
        if None in rendered.values():
            return Outcome.go("failed")
        if not to:
            act.error(self, "no_email", "the contact has no email address")
            return Outcome.go("failed")
        payload = {"subject": rendered["subject"], "text": rendered["text"],
                   "html": rendered.get("html"), "to": to}
        key = send(act, self, channel="email", kind="email", payload=payload)
        return Outcome.go("next" if key else "failed")
