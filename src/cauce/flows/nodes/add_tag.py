"""Add tags to the contact.

Example:

    {
      "id": "tag_lead",
      "type": "add_tag",
      "config": {
        "tags": [
          "lead",
          "interes-compra"
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

from cauce.flows.common import Strict
from cauce.flows.nodes.base import Node, Outcome

if TYPE_CHECKING:
    from cauce.engine.activation import Activation


class TagsConfig(Strict):
    tags: list[str] = Field(min_length=1)


class AddTag(Node):
    type: Literal["add_tag"]
    config: TagsConfig

    category = "data"
    summary = "Add tags to the contact."

    def execute(self, act: Activation) -> Outcome:
        act.update_contact(self, add_tags=list(self.config.tags))
        return Outcome.go("next")
