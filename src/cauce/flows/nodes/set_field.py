"""Set a contact field: a core attribute (first_name, last_name, name, email, language,
country, timezone) or a custom field. The value is Liquid.

Example:

    {
      "id": "save_interest",
      "type": "set_field",
      "config": {
        "field": "interest",
        "value": "{{ results.classify.intent }}"
      },
      "exits": {
        "next": null,
        "failed": null
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
    from cauce.flows.document import FlowDocument


class SetFieldConfig(Strict):
    field: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_]+$")
    value: str


class SetField(Node):
    type: Literal["set_field"]
    config: SetFieldConfig

    category = "data"
    summary = "Set a contact field (core or custom)."

    def exit_names(self, flow: FlowDocument | None = None) -> list[str]:
        return ["next", "failed"]

    def templates(self) -> list[tuple[str, str]]:
        return [("config.value", self.config.value)]

    def execute(self, act: Activation) -> Outcome:
        value = act.render(self, "config.value", self.config.value)
        if value is None:
            return Outcome.go("failed")
        act.update_contact(self, fields={self.config.field: value})
        return Outcome.go("next")
