"""Wait until a condition holds (re-checked on every input the run receives, e.g. a contact
update or an event), with a timeout. Passes at once when it already holds.

Example:

    {
      "id": "until_paid",
      "type": "wait_for_condition",
      "config": {
        "condition": {
          "rules": [
            {
              "field": "contact.tags",
              "operator": "contains",
              "value": "pagó"
            }
          ]
        },
        "timeout": "3d"
      },
      "exits": {
        "met": null,
        "timeout": null
      }
    }
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from cauce.engine.types import TimerFired, WaitState
from cauce.flows.common import Condition, Duration, Strict
from cauce.flows.nodes.base import Node, Outcome

if TYPE_CHECKING:
    from cauce.engine.activation import Activation
    from cauce.flows.document import FlowDocument
    from cauce.flows.nodes.base import InputT


class WaitForConditionConfig(Strict):
    condition: Condition
    timeout: Duration | None = None


class WaitForCondition(Node):
    type: Literal["wait_for_condition"]
    config: WaitForConditionConfig

    category = "wait"
    waits = True
    summary = "Wait until a condition is true (with a timeout)."

    def exit_names(self, flow: FlowDocument | None = None) -> list[str]:
        return ["met", "timeout"]

    def execute(self, act: Activation) -> Outcome:
        if act.check(self, "config.condition", self.config.condition):
            return Outcome.go("met")
        timeout = self.config.timeout
        return Outcome(wait=WaitState(kind="condition", node_id=self.id,
                                      due_at=act.now + timeout.delta if timeout else None))

    def on_input(self, act: Activation, wait: WaitState, inp: InputT) -> Outcome | None:
        if isinstance(inp, TimerFired):
            return Outcome.go("timeout")
        if act.check(self, "config.condition", self.config.condition):
            return Outcome.go("met")
        return None
