"""Branch on conditions: the first branch whose condition holds wins, otherwise ``else``.
Each branch is an AND/OR group of field/operator/value rules (or a sandboxed expression).

Example:

    {
      "id": "is_client",
      "type": "condition",
      "config": {
        "branches": [
          {
            "name": "vip",
            "when": {
              "match": "any",
              "rules": [
                {
                  "field": "contact.tags",
                  "operator": "contains",
                  "value": "vip"
                },
                {
                  "field": "contact.lead_score",
                  "operator": "gte",
                  "value": 80
                }
              ]
            }
          }
        ]
      },
      "exits": {
        "vip": null,
        "else": null
      }
    }
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from cauce.flows.common import Condition, Problem, Strict
from cauce.flows.nodes._shared import RESERVED_EXITS
from cauce.flows.nodes.base import Node, Outcome
from cauce.limits import MAX_CONDITION_BRANCHES

if TYPE_CHECKING:
    from cauce.engine.activation import Activation
    from cauce.flows.document import FlowDocument


class Branch(Strict):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")
    when: Condition


class ConditionConfig(Strict):
    branches: list[Branch] = Field(min_length=1)


class ConditionNode(Node):
    type: Literal["condition"]
    config: ConditionConfig

    category = "logic"
    summary = "Branch on AND/OR conditions; first match wins, else."

    def exit_names(self, flow: FlowDocument | None = None) -> list[str]:
        return [b.name for b in self.config.branches] + ["else"]

    def check(self, flow: FlowDocument) -> list[Problem]:
        problems = []
        if len(self.config.branches) > MAX_CONDITION_BRANCHES:
            problems.append(self.problem("too_many_branches",
                                         f"more than {MAX_CONDITION_BRANCHES} branches",
                                         "config.branches"))
        names = [b.name for b in self.config.branches]
        for i, name in enumerate(names):
            if name in RESERVED_EXITS or names.index(name) != i:
                problems.append(self.problem("bad_branch_name",
                                             f"branch name '{name}' is repeated or reserved",
                                             f"config.branches.{i}.name"))
        return problems

    def execute(self, act: Activation) -> Outcome:
        for i, branch in enumerate(self.config.branches):
            matched = act.check(self, f"config.branches.{i}.when", branch.when)
            if matched:
                return Outcome.go(branch.name)
        return Outcome.go("else")
