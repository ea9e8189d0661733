"""Classify the intent of a text (by default the last message). One exit per intent;
``unsure`` when the confidence is below ``threshold`` or the AI failed.
Result data: ``{"intent": str, "confidence": float}``.

Example:

    {
      "id": "classify",
      "type": "ai_classify_intent",
      "config": {
        "intents": [
          {
            "name": "buy",
            "description": "quiere comprar",
            "examples": [
              "quiero comprar",
              "precio"
            ]
          },
          {
            "name": "support",
            "examples": [
              "no puedo acceder",
              "no funciona"
            ]
          }
        ],
        "threshold": 0.6,
        "save_as": "intent"
      },
      "exits": {
        "buy": null,
        "support": null,
        "unsure": null
      }
    }
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from cauce.flows.common import Problem, Strict
from cauce.flows.nodes._ai import AiConfig, answer, ask
from cauce.flows.nodes._shared import RESERVED_EXITS
from cauce.flows.nodes.base import Node, Outcome

if TYPE_CHECKING:
    from cauce.engine.activation import Activation
    from cauce.engine.types import WaitState
    from cauce.flows.document import FlowDocument
    from cauce.flows.nodes.base import InputT


class Intent(Strict):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")
    description: str = ""
    examples: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)  # phrases that decide without the model


class ClassifyIntentConfig(AiConfig):
    intents: list[Intent] = Field(min_length=1)
    threshold: float = Field(default=0.6, ge=0, le=1)


class AiClassifyIntent(Node):
    type: Literal["ai_classify_intent"]
    config: ClassifyIntentConfig

    category = "ai"
    summary = "Classify the message's intent (exits per intent + unsure)."

    def exit_names(self, flow: FlowDocument | None = None) -> list[str]:
        return [i.name for i in self.config.intents] + ["unsure"]

    def templates(self) -> list[tuple[str, str]]:
        return [("config.text", self.config.text)]

    def check(self, flow: FlowDocument) -> list[Problem]:
        names = [i.name for i in self.config.intents]
        if len(set(names)) != len(names) or RESERVED_EXITS & set(names):
            return [self.problem("bad_intent_name", "intent names must be unique and not "
                                 "reserved", "config.intents")]
        return []

    def execute(self, act: Activation) -> Outcome:
        intents = [i.model_dump(mode="json") for i in self.config.intents]
        return ask(act, self, "classify_intent", self.config.text,
                   {"intents": intents, "threshold": self.config.threshold}) \
            or Outcome.go("unsure")

    def on_input(self, act: Activation, wait: WaitState, inp: InputT) -> Outcome | None:
        result = answer(act, self, wait, inp, self.config.save_as)
        if result is None:
            return None
        intent = result.data.get("intent")
        confidence = result.data.get("confidence", 0)
        sure = (isinstance(confidence, int | float) and confidence >= self.config.threshold
                and result.data.get("unsure") is not True)
        if result.ok and sure and intent in self.exit_names():
            return Outcome.go(str(intent))
        return Outcome.go("unsure")
