"""Summarize the conversation (the host supplies the transcript) or a given text.
Result data: ``{"summary": str}``, available as ``results.<save_as>.summary``.

Example:

    {
      "id": "sum",
      "type": "ai_summarize",
      "config": {
        "scope": "conversation",
        "max_words": 80,
        "save_as": "summary"
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

from cauce.flows.nodes._ai import AiConfig, answer, ask
from cauce.flows.nodes.base import Node, Outcome

if TYPE_CHECKING:
    from cauce.engine.activation import Activation
    from cauce.engine.types import WaitState
    from cauce.flows.document import FlowDocument
    from cauce.flows.nodes.base import InputT


class SummarizeConfig(AiConfig):
    scope: Literal["conversation", "text"] = "conversation"
    max_words: int = Field(default=80, ge=5, le=1000)


class AiSummarize(Node):
    type: Literal["ai_summarize"]
    config: SummarizeConfig = SummarizeConfig()

    category = "ai"
    summary = "Summarize the conversation."

    def exit_names(self, flow: FlowDocument | None = None) -> list[str]:
        return ["next", "failed"]

    def templates(self) -> list[tuple[str, str]]:
        return [("config.text", self.config.text)] if self.config.scope == "text" else []

    def execute(self, act: Activation) -> Outcome:
        source = self.config.text if self.config.scope == "text" else ""
        return ask(act, self, "summarize", source,
                   {"scope": self.config.scope, "max_words": self.config.max_words}) \
            or Outcome.go("failed")

    def on_input(self, act: Activation, wait: WaitState, inp: InputT) -> Outcome | None:
        result = answer(act, self, wait, inp, self.config.save_as)
        if result is None:
            return None
        return Outcome.go("next" if result.ok else "failed")
