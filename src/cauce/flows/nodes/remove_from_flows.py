"""Remove the contact from other flows (their active runs are interrupted by the runtime).
An empty ``flow_ids`` means every other flow.

Example:

    {
      "id": "stop_others",
      "type": "remove_from_flows",
      "config": {
        "flow_ids": [
          3,
          4
        ]
      },
      "exits": {
        "next": null
      }
    }
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from cauce.engine.types import RemoveFromFlowsRequested
from cauce.flows.common import Strict
from cauce.flows.nodes.base import Node, Outcome

if TYPE_CHECKING:
    from cauce.engine.activation import Activation


class RemoveFromFlowsConfig(Strict):
    flow_ids: list[int] = Field(default_factory=list)


class RemoveFromFlows(Node):
    type: Literal["remove_from_flows"]
    config: RemoveFromFlowsConfig = RemoveFromFlowsConfig()

    category = "logic"
    summary = "Remove the contact from other flows."

    def execute(self, act: Activation) -> Outcome:
        act.emit(RemoveFromFlowsRequested(node_id=self.id, flow_ids=list(self.config.flow_ids)))
        return Outcome.go("next")
