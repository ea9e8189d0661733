"""Add or subtract lead-score points: a fixed amount plus points for each matching signal.

Example:

    {
      "id": "score",
      "type": "lead_score",
      "config": {
        "points": 5,
        "signals": [
          {
            "when": {
              "rules": [
                {
                  "field": "message.text",
                  "operator": "contains",
                  "value": "precio"
                }
              ]
            },
            "points": 20
          }
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

from cauce.flows.common import Condition, Strict
from cauce.flows.nodes.base import Node, Outcome

if TYPE_CHECKING:
    from cauce.engine.activation import Activation


class Signal(Strict):
    when: Condition
    points: int = Field(ge=-1000, le=1000)


class LeadScoreConfig(Strict):
    points: int = Field(default=0, ge=-1000, le=1000)
    signals: list[Signal] = Field(default_factory=list)


class LeadScore(Node):
    type: Literal["lead_score"]
    config: LeadScoreConfig

    category = "data"
    summary = "Add/subtract lead-score points from signals."

    def execute(self, act: Activation) -> Outcome:
        delta = self.config.points
        for i, signal in enumerate(self.config.signals):
            if act.check(self, f"config.signals.{i}.when", signal.when):
                delta += signal.points
        if delta:
            act.update_contact(self, lead_score_delta=delta)
        act.save_result(self, None, {"delta": delta})
        return Outcome.go("next")
