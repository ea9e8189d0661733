"""Wait for a named business event for this contact (``order.delivered``…), optionally only
one whose data matches ``filters`` (rules over ``event.*``), with a timeout.

Example:

    {
      "id": "paid",
      "type": "wait_for_event",
      "config": {
        "event": "order.paid",
        "timeout": "2d"
      },
      "exits": {
        "received": null,
        "timeout": null
      }
    }
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from cauce.engine.types import EventIn, TimerFired, WaitState
from cauce.flows.common import Condition, Duration, Strict
from cauce.flows.nodes.base import Node, Outcome

if TYPE_CHECKING:
    from cauce.engine.activation import Activation
    from cauce.flows.document import FlowDocument
    from cauce.flows.nodes.base import InputT


class WaitForEventConfig(Strict):
    event: str = Field(min_length=1)
    filters: Condition | None = None
    timeout: Duration | None = None


class WaitForEvent(Node):
    type: Literal["wait_for_event"]
    config: WaitForEventConfig

    category = "wait"
    waits = True
    summary = "Wait for a business event (with a timeout)."

    def exit_names(self, flow: FlowDocument | None = None) -> list[str]:
        return ["received", "timeout"]

    def execute(self, act: Activation) -> Outcome:
        timeout = self.config.timeout
        return Outcome(wait=WaitState(
            kind="event", node_id=self.id, event_name=self.config.event,
            due_at=act.now + timeout.delta if timeout else None))

    def on_input(self, act: Activation, wait: WaitState, inp: InputT) -> Outcome | None:
        if isinstance(inp, TimerFired):
            return Outcome.go("timeout")
        if isinstance(inp, EventIn) and inp.name == self.config.event:
            if self.config.filters is not None:
                data = {**act.data(), "event": inp.data}
                matched = act.check(self, "config.filters", self.config.filters, data)
                if not matched:
                    return None
            act.save_result(self, None, {"name": inp.name, "data": inp.data})
            return Outcome.go("received")
        return None
