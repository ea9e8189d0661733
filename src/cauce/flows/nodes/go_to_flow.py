"""Start another flow for this contact (with parameters); by default this run then ends.

Example:

    {
      "id": "to_support",
      "type": "go_to_flow",
      "config": {
        "flow_id": 12,
        "params": {
          "origin": "{{ flow.name }}"
        }
      },
      "exits": {}
    }
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from cauce.engine.types import FlowStartRequested, RunStatus
from cauce.flows.common import Strict
from cauce.flows.nodes.base import Node, Outcome

if TYPE_CHECKING:
    from cauce.engine.activation import Activation
    from cauce.flows.document import FlowDocument


class GoToFlowConfig(Strict):
    flow_id: int = Field(ge=1)
    params: dict[str, str] = Field(default_factory=dict)  # Liquid values
    end_this_run: bool = True


class GoToFlow(Node):
    type: Literal["go_to_flow"]
    config: GoToFlowConfig

    category = "logic"
    summary = "Start another flow for the contact."

    def exit_names(self, flow: FlowDocument | None = None) -> list[str]:
        return ["failed"] if self.config.end_this_run else ["next", "failed"]

    def templates(self) -> list[tuple[str, str]]:
        return [(f"config.params.{k}", v) for k, v in self.config.params.items()]

    def execute(self, act: Activation) -> Outcome:
        params = {k: act.render(self, f"config.params.{k}", v)
                  for k, v in self.config.params.items()}
        if None in params.values():
            return Outcome.go("failed")
        act.emit(FlowStartRequested(node_id=self.id, flow_id=self.config.flow_id,
                                    params=params))
        if self.config.end_this_run:
            return Outcome(end=RunStatus.COMPLETED, reason=f"go_to_flow:{self.config.flow_id}")
        return Outcome.go("next")
