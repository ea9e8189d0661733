"""Hand the conversation to a person (team or agent, priority, note, transcript). The run
pauses until the agent hands it back (exit ``returned``); replies meanwhile go to the agent
and do not trigger stop-on-reply.

Example:

    {
      "id": "human",
      "type": "handoff",
      "config": {
        "team": "ventas",
        "priority": "high",
        "note": "Lead prioritario: {{ results.classify.intent }}",
        "include_transcript": true
      },
      "exits": {
        "returned": null,
        "failed": null
      }
    }
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from cauce.engine.types import HandoffRequested, WaitState
from cauce.flows.common import Strict
from cauce.flows.nodes._shared import activity_result, request_activity
from cauce.flows.nodes.base import Node, Outcome
from cauce.flows.nodes.create_ticket import Priority

if TYPE_CHECKING:
    from cauce.engine.activation import Activation
    from cauce.flows.document import FlowDocument
    from cauce.flows.nodes.base import InputT


class HandoffConfig(Strict):
    team: str | None = None
    agent: str | None = None
    priority: Priority = "normal"
    note: str = ""
    include_transcript: bool = True


class Handoff(Node):
    type: Literal["handoff"]
    config: HandoffConfig

    category = "data"
    summary = "Hand the conversation to a human agent; resumes when they hand it back."

    def exit_names(self, flow: FlowDocument | None = None) -> list[str]:
        return ["returned", "failed"]

    def templates(self) -> list[tuple[str, str]]:
        return [("config.note", self.config.note)]

    def execute(self, act: Activation) -> Outcome:
        note = act.render(self, "config.note", self.config.note)
        if note is None:
            return Outcome.go("failed")
        return request_activity(act, self, HandoffRequested(
            activity_id=act.new_id(), node_id=self.id, team=self.config.team,
            agent=self.config.agent, priority=self.config.priority, note=note,
            include_transcript=self.config.include_transcript,
            context={"results": act.state.results, "trigger": act.state.trigger}))

    def on_input(self, act: Activation, wait: WaitState, inp: InputT) -> Outcome | None:
        result = activity_result(wait, inp)
        if result is None:
            return None
        act.save_result(self, None, result.data)
        return Outcome.go("returned" if result.ok else "failed")
