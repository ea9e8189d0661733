"""Open a support ticket with the conversation's context.

Example:

    {
      "id": "ticket",
      "type": "create_ticket",
      "config": {
        "subject": "No puede acceder: {{ contact.name }}",
        "description": "{{ message.text }}",
        "priority": "high",
        "team": "soporte"
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

from cauce.engine.types import TicketRequested
from cauce.flows.common import Strict
from cauce.flows.nodes.base import Node, Outcome

if TYPE_CHECKING:
    from cauce.engine.activation import Activation
    from cauce.flows.document import FlowDocument

Priority = Literal["low", "normal", "high", "urgent"]


class CreateTicketConfig(Strict):
    subject: str = Field(min_length=1)
    description: str = ""
    priority: Priority = "normal"
    team: str | None = None


class CreateTicket(Node):
    type: Literal["create_ticket"]
    config: CreateTicketConfig

    category = "data"
    summary = "Create a support ticket."

    def exit_names(self, flow: FlowDocument | None = None) -> list[str]:
        return ["next", "failed"]

    def templates(self) -> list[tuple[str, str]]:
        return [("config.subject", self.config.subject),
                ("config.description", self.config.description)]

    def execute(self, act: Activation) -> Outcome:
        subject = act.render(self, "config.subject", self.config.subject)
        description = act.render(self, "config.description", self.config.description)
        if subject is None or description is None:
            return Outcome.go("failed")
        act.emit(TicketRequested(key=act.message_key(self), node_id=self.id, subject=subject,
                                 description=description, priority=self.config.priority,
                                 team=self.config.team))
        return Outcome.go("next")
