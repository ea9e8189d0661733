"""Remove tags from the contact.

Example:

    {
      "id": "untag",
      "type": "remove_tag",
      "config": {
        "tags": [
          "carrito-abandonado"
        ]
      },
      "exits": {
        "next": null
      }
    }
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from cauce.flows.nodes.add_tag import TagsConfig
from cauce.flows.nodes.base import Node, Outcome

if TYPE_CHECKING:
    from cauce.engine.activation import Activation


class RemoveTag(Node):
    type: Literal["remove_tag"]
    config: TagsConfig

    category = "data"
    summary = "Remove tags from the contact."

    def execute(self, act: Activation) -> Outcome:
        act.update_contact(self, remove_tags=list(self.config.tags))
        return Outcome.go("next")
