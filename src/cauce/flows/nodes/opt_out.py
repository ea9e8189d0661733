"""Opt the contact out of marketing, or pause marketing for a while (e.g. a detractor).

Example:

    {
      "id": "pause",
      "type": "opt_out",
      "config": {
        "mode": "pause",
        "pause_for": "30d"
      },
      "exits": {
        "next": null
      }
    }
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import model_validator

from cauce.flows.common import Duration, Strict
from cauce.flows.nodes.base import Node, Outcome

if TYPE_CHECKING:
    from cauce.engine.activation import Activation


class OptOutConfig(Strict):
    mode: Literal["opt_out", "pause"] = "opt_out"
    pause_for: Duration | None = None

    @model_validator(mode="after")
    def _pause_needs_duration(self) -> OptOutConfig:
        if self.mode == "pause" and self.pause_for is None:
            raise ValueError("mode 'pause' needs pause_for")
        return self


class OptOut(Node):
    type: Literal["opt_out"]
    config: OptOutConfig = OptOutConfig()

    category = "data"
    summary = "Opt out of marketing, or pause it for a time."

    def execute(self, act: Activation) -> Outcome:
        if self.config.mode == "opt_out":
            act.update_contact(self, opt_out_marketing=True)
        else:
            assert self.config.pause_for is not None  # guaranteed by the validator
            until = act.now + self.config.pause_for.delta
            act.update_contact(self, fields={"marketing_paused_until": until.isoformat()})
        return Outcome.go("next")
