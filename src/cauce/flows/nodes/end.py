"""End the run here (completed), with an optional reason shown in reports.

Example:

    {
      "id": "done",
      "type": "end",
      "config": {
        "reason": "converted"
      },
      "exits": {}
    }
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from cauce.engine.types import RunStatus
from cauce.flows.common import Strict
from cauce.flows.nodes.base import Node, Outcome

if TYPE_CHECKING:
    from cauce.engine.activation import Activation
    from cauce.flows.document import FlowDocument


class EndConfig(Strict):
    reason: str = ""


class End(Node):
    type: Literal["end"]
    config: EndConfig = EndConfig()

    category = "logic"
    summary = "End the run."

    def exit_names(self, flow: FlowDocument | None = None) -> list[str]:
        return []

    def execute(self, act: Activation) -> Outcome:
        return Outcome(end=RunStatus.COMPLETED, reason=self.config.reason or "end")
