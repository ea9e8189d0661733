"""The flow document: metadata, triggers, settings, nodes (semantics) and layout (editor).

JSON is the stored form; YAML is accepted on import (:func:`load_flow_text`).
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import Field, PrivateAttr

from cauce.flows.common import Condition, Strict, TimeWindow
from cauce.flows.nodes.base import Node
from cauce.flows.registry import AnyNode
from cauce.flows.triggers import Trigger

FORMAT_VERSION = 1


class Metadata(Strict):
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    language: str = "es"


class Goal(Strict):
    """When ``condition`` becomes true (checked on every activation and before every step),
    the run jumps to ``node``."""

    condition: Condition
    node: str


class FlowSettings(Strict):
    # never: a contact enters once; after_end: again once the previous run ended;
    # always: a new trigger interrupts the active run and starts a new one.
    reentry: Literal["never", "after_end", "always"] = "after_end"
    stop_on_reply: bool = False
    timezone: Literal["contact", "workspace"] = "contact"
    communication_window: TimeWindow | None = None
    goal: Goal | None = None
    category: Literal["marketing", "utility", "service"] = "marketing"


class Position(Strict):
    x: float = 0
    y: float = 0


class FlowDocument(Strict):
    """A complete flow. ``start`` defaults to the first node; ``layout`` is editor-only."""

    format: Literal[1] = 1
    metadata: Metadata
    triggers: list[Trigger] = Field(default_factory=list)
    settings: FlowSettings = FlowSettings()
    start: str | None = None
    nodes: list[AnyNode] = Field(default_factory=list)
    layout: dict[str, Position] = Field(default_factory=dict)

    _index: dict[str, Node] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any) -> None:
        self._index = {n.id: n for n in self.nodes}

    def node(self, node_id: str | None) -> Node | None:
        return self._index.get(node_id) if node_id is not None else None

    def start_node(self) -> str | None:
        if self.start is not None:
            return self.start
        return self.nodes[0].id if self.nodes else None


def parse_text(text: str, filename: str = "") -> Any:
    """JSON, or YAML when the name ends in .yaml/.yml or the text is not JSON."""
    if not filename.endswith((".yaml", ".yml")):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            if filename.endswith(".json"):
                raise
    import yaml

    return yaml.safe_load(text)


def load_flow(data: dict[str, Any] | FlowDocument) -> FlowDocument:
    """A FlowDocument from parsed data (raises pydantic.ValidationError when malformed)."""
    if isinstance(data, FlowDocument):
        return data
    return FlowDocument.model_validate(data)


def load_flow_text(text: str, filename: str = "") -> FlowDocument:
    return load_flow(parse_text(text, filename))


def flow_json_schema() -> dict[str, Any]:
    """The JSON Schema of flow documents (for the editor and for users)."""
    schema = FlowDocument.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://cauce.dev/schemas/flow-v1.json"
    return schema
