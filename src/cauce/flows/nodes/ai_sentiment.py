"""Sentiment of a text: exits ``positive``, ``neutral``, ``negative`` (``failed`` when the AI
could not answer). Result data: ``{"sentiment": "positive|neutral|negative", "score": float}``.

Example:

    {
      "id": "mood",
      "type": "ai_sentiment",
      "config": {
        "save_as": "mood"
      },
      "exits": {
        "positive": null,
        "neutral": null,
        "negative": null,
        "failed": null
      }
    }
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from cauce.flows.nodes._ai import AiConfig, answer, ask
from cauce.flows.nodes.base import Node, Outcome

if TYPE_CHECKING:
    from cauce.engine.activation import Activation
    from cauce.engine.types import WaitState
    from cauce.flows.document import FlowDocument
    from cauce.flows.nodes.base import InputT

SENTIMENTS = ("positive", "neutral", "negative")


class SentimentConfig(AiConfig):
    pass


class AiSentiment(Node):
    type: Literal["ai_sentiment"]
    config: SentimentConfig = SentimentConfig()

    category = "ai"
    summary = "Classify the sentiment: positive / neutral / negative."

    def exit_names(self, flow: FlowDocument | None = None) -> list[str]:
        return [*SENTIMENTS, "failed"]

    def templates(self) -> list[tuple[str, str]]:
        return [("config.text", self.config.text)]

    def execute(self, act: Activation) -> Outcome:
        return ask(act, self, "sentiment", self.config.text, {}) or Outcome.go("failed")

    def on_input(self, act: Activation, wait: WaitState, inp: InputT) -> Outcome | None:
        result = answer(act, self, wait, inp, self.config.save_as)
        if result is None:
            return None
        sentiment = result.data.get("sentiment")
        if not result.ok or sentiment not in SENTIMENTS:
            return Outcome.go("failed")
        return Outcome.go(str(sentiment))
