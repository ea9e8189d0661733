"""Machine-readable description of node and trigger types (for the editor and the CLI)."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from cauce.flows.nodes.base import Node
from cauce.flows.registry import NODE_TYPES
from cauce.flows.triggers import Trigger

# Exits that depend on the config: (always present, what adds more).
_DYNAMIC: dict[str, tuple[list[str], str]] = {
    "whatsapp_buttons": (["replied", "timeout", "failed"], "one per button id"),
    "whatsapp_list": (["replied", "timeout", "failed"], "one per row id"),
    "wait_for_reply": (["replied", "timeout"],
                       "one per quick-reply button of message_node, one per keyword route"),
    "condition": (["else"], "one per branch name"),
    "random_split": ([], "one per path name"),
    "ai_classify_intent": (["unsure"], "one per intent name"),
    "wait_until": (["next", "failed"], "past, when if_past is past_exit"),
    "go_to_flow": (["failed"], "next, when end_this_run is false"),
}


def _exits(name: str, cls: type[Node]) -> tuple[list[str], str | None]:
    if name in _DYNAMIC:
        fixed, note = _DYNAMIC[name]
        return list(fixed), note
    return list(cls.model_construct(id="x", type=name, exits={}).exit_names()), None


def node_types() -> list[dict[str, Any]]:
    """Every node type: name, category, summary, exits and its config's JSON Schema."""
    out = []
    for name, cls in NODE_TYPES.items():
        config_type: Any = cls.model_fields["config"].annotation
        exits, dynamic = _exits(name, cls)
        out.append({
            "type": name,
            "category": cls.category,
            "summary": cls.summary,
            "waits": cls.waits,
            "free_form_whatsapp": cls.free_form_whatsapp,
            "exits": exits,
            "dynamic_exits": dynamic,
            "config_schema": TypeAdapter(config_type).json_schema(),
        })
    return out


def trigger_schema() -> dict[str, Any]:
    return TypeAdapter(Trigger).json_schema()
