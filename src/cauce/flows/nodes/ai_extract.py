"""Extract fields (name, email, phone or custom) from a text; optionally save them on the
contact. Result data: ``{"fields": {name: value}}``.

Example:

    {
      "id": "extract",
      "type": "ai_extract",
      "config": {
        "fields": [
          {
            "name": "first_name",
            "kind": "name"
          },
          {
            "name": "email",
            "kind": "email"
          }
        ],
        "save_to_contact": true,
        "save_as": "lead"
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
from cauce.flows.nodes._ai import AiConfig, answer, ask
from cauce.flows.nodes.base import Node, Outcome

if TYPE_CHECKING:
    from cauce.engine.activation import Activation
    from cauce.engine.types import WaitState
    from cauce.flows.document import FlowDocument
    from cauce.flows.nodes.base import InputT


class ExtractField(Strict):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_]+$")
    kind: Literal["name", "email", "phone", "custom"] = "custom"
    description: str = ""


class ExtractConfig(AiConfig):
    fields: list[ExtractField] = Field(min_length=1)
    save_to_contact: bool = False


class AiExtract(Node):
    type: Literal["ai_extract"]
    config: ExtractConfig

    category = "ai"
    summary = "Extract name, email, phone or custom fields from the message."

    def exit_names(self, flow: FlowDocument | None = None) -> list[str]:
        return ["next", "failed"]

    def templates(self) -> list[tuple[str, str]]:
        return [("config.text", self.config.text)]

    def execute(self, act: Activation) -> Outcome:
        fields = [f.model_dump(mode="json") for f in self.config.fields]
        return ask(act, self, "extract", self.config.text, {"fields": fields}) \
            or Outcome.go("failed")

    def on_input(self, act: Activation, wait: WaitState, inp: InputT) -> Outcome | None:
        result = answer(act, self, wait, inp, self.config.save_as)
        if result is None:
            return None
        if not result.ok:
            return Outcome.go("failed")
        found = result.data.get("fields") or {}
        wanted = {f.name for f in self.config.fields}
        values = {k: v for k, v in found.items() if k in wanted and v not in (None, "")} \
            if isinstance(found, dict) else {}
        if self.config.save_to_contact and values:
            act.update_contact(self, fields=values)
        return Outcome.go("next")
