"""Update the contact's opportunity (the trigger's, else the latest open one): pipeline,
stage, status and/or value.

Example:

    {
      "id": "won",
      "type": "update_opportunity",
      "config": {
        "pipeline": "Ventas",
        "stage": "Cerrado",
        "status": "won"
      },
      "exits": {
        "next": null
      }
    }
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import model_validator

from cauce.engine.types import OpportunityUpdateRequested
from cauce.flows.common import Strict
from cauce.flows.nodes.base import Node, Outcome

if TYPE_CHECKING:
    from cauce.engine.activation import Activation


class UpdateOpportunityConfig(Strict):
    pipeline: str | None = None
    stage: str | None = None
    status: Literal["open", "won", "lost", "abandoned"] | None = None
    value: float | None = None

    @model_validator(mode="after")
    def _something(self) -> UpdateOpportunityConfig:
        if self.stage is None and self.status is None and self.value is None:
            raise ValueError("set at least one of stage, status, value")
        return self


class UpdateOpportunity(Node):
    type: Literal["update_opportunity"]
    config: UpdateOpportunityConfig

    category = "data"
    summary = "Move the opportunity: stage, status, value."

    def execute(self, act: Activation) -> Outcome:
        raw_id = act.state.trigger.get("data", {}).get("opportunity_id")
        opp_id = raw_id if isinstance(raw_id, int) and not isinstance(raw_id, bool) else None
        act.emit(OpportunityUpdateRequested(
            node_id=self.id, opportunity_id=opp_id, pipeline=self.config.pipeline,
            stage=self.config.stage, status=self.config.status, value=self.config.value))
        return Outcome.go("next")
