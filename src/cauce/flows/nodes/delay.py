"""Wait a fixed time, then optionally resume only inside a weekly window (e.g. Mon–Fri
05:00–17:00 in the contact's timezone), skipping the country's public holidays.

Example:

    {
      "id": "wait7",
      "type": "delay",
      "config": {
        "duration": "7d",
        "resume_window": {
          "weekdays": [
            0,
            1,
            2,
            3,
            4
          ],
          "start": "05:00",
          "end": "17:00",
          "skip_holidays": true
        }
      },
      "exits": {
        "next": null
      }
    }
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from cauce.engine.types import TimerFired, WaitState
from cauce.flows.common import Duration, Strict, TimeWindow
from cauce.flows.nodes.base import Node, Outcome

if TYPE_CHECKING:
    from cauce.engine.activation import Activation
    from cauce.flows.nodes.base import InputT


class DelayConfig(Strict):
    duration: Duration
    resume_window: TimeWindow | None = None


class Delay(Node):
    type: Literal["delay"]
    config: DelayConfig

    category = "wait"
    waits = True
    summary = "Wait a time, optionally resuming only on business days and hours."

    def execute(self, act: Activation) -> Outcome:
        earliest = act.now + self.config.duration.delta
        due = act.business_time(earliest, self.config.resume_window)
        return Outcome(wait=WaitState(kind="timer", node_id=self.id, due_at=due))

    def on_input(self, act: Activation, wait: WaitState, inp: InputT) -> Outcome | None:
        return Outcome.go("next") if isinstance(inp, TimerFired) else None
