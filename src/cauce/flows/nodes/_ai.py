"""What the AI node types share: the text they work on and the request/response cycle.

The engine only asks (``AiRequested``) and waits for an ``ActivityResult``; the AI itself
(``cauce.ai``) answers it. The shape of ``ActivityResult.data`` per operation is documented
on each node type.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from cauce.engine.types import ActivityResult, AiRequested
from cauce.flows.common import Strict
from cauce.flows.nodes._shared import activity_result, request_activity
from cauce.flows.nodes.base import Node, Outcome

if TYPE_CHECKING:
    from cauce.engine.activation import Activation
    from cauce.engine.types import WaitState
    from cauce.flows.nodes.base import InputT

Operation = Literal["classify_intent", "extract", "sentiment", "summarize", "score"]


class AiConfig(Strict):
    text: str = "{{ message.text | default: '' }}"  # what to analyse (Liquid)
    save_as: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_]+$")


def ask(act: Activation, node: Node, operation: Operation, text_source: str,
        config: dict[str, Any]) -> Outcome | None:
    text = act.render(node, "config.text", text_source)
    if text is None:
        return None
    return request_activity(act, node, AiRequested(
        activity_id=act.new_id(), node_id=node.id, operation=operation, text=text,
        config=config))


def answer(act: Activation, node: Node, wait: WaitState, inp: InputT,
           save_as: str | None) -> ActivityResult | None:
    result = activity_result(wait, inp)
    if result is None:
        return None
    act.save_result(node, save_as, result.data)
    if not result.ok:
        act.error(node, "ai_failed", result.error or "the AI call failed")
    return result
