"""Notify the team: email, Slack (incoming webhook) or an internal note in the inbox.

Example:

    {
      "id": "alert",
      "type": "notify_team",
      "config": {
        "target": "slack",
        "text": "Lead caliente: {{ contact.name }}"
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

from cauce.engine.types import NotificationRequested
from cauce.flows.common import Strict
from cauce.flows.nodes.base import Node, Outcome

if TYPE_CHECKING:
    from cauce.engine.activation import Activation
    from cauce.flows.document import FlowDocument


class NotifyTeamConfig(Strict):
    target: Literal["email", "slack", "inbox"]
    text: str = Field(min_length=1)
    to: str = ""  # email address(es) for target email; channel name for Slack (optional)
    subject: str = ""


class NotifyTeam(Node):
    type: Literal["notify_team"]
    config: NotifyTeamConfig

    category = "message"
    summary = "Tell the team by email, Slack or an inbox note (not the contact)."

    def exit_names(self, flow: FlowDocument | None = None) -> list[str]:
        return ["next", "failed"]

    def templates(self) -> list[tuple[str, str]]:
        c = self.config
        return [("config.text", c.text), ("config.subject", c.subject), ("config.to", c.to)]

    def execute(self, act: Activation) -> Outcome:
        text = act.render(self, "config.text", self.config.text)
        subject = act.render(self, "config.subject", self.config.subject)
        to = act.render(self, "config.to", self.config.to)
        if text is None or subject is None or to is None:
            return Outcome.go("failed")
        act.emit(NotificationRequested(key=act.message_key(self), node_id=self.id,
                                       target=self.config.target, to=to, subject=subject,
                                       text=text))
        return Outcome.go("next")
