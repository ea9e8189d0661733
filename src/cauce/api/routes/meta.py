"""Read-only facts the web editor needs: the node types and the exits a node offers.

The editor draws one connection point per exit. Exits depend on a node's settings (one per
button, list row, intent, split path, keyword), and the node classes already know how to list
them, so the editor asks here instead of re-implementing each rule in TypeScript.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from cauce.api.deps import PrincipalDep
from cauce.api.errors import ERROR_RESPONSES
from cauce.flows.catalog import node_types
from cauce.flows.document import FlowDocument, flow_json_schema
from cauce.flows.nodes.base import Node
from cauce.flows.registry import NODE_TYPES, AnyNode
from cauce.limits import MAX_NODES_PER_FLOW

router = APIRouter(tags=["editor"], responses=ERROR_RESPONSES)


class NodeTypePublic(BaseModel):
    type: str
    category: str
    summary: str
    waits: bool
    free_form_whatsapp: bool
    exits: list[str] = Field(description="Exits every node of this type has")
    dynamic_exits: str | None = Field(description="What adds more exits, from the config")
    config_schema: dict[str, Any] = Field(description="JSON Schema of the node's `config`")
    example: dict[str, Any] = Field(description="A complete node of this type, from its docs")
    example_exits: list[str] = Field(description="The exits of `example`, in editor order")


def _example(cls: type[Node]) -> dict[str, Any]:
    """The JSON node after ``Example:`` in the node module's docstring (tests parse it too)."""
    import sys

    doc = sys.modules[cls.__module__].__doc__ or ""
    _, _, after = doc.partition("Example:")
    start = after.find("{")
    if start < 0:
        raise RuntimeError(f"node type {cls.__name__} has no JSON example in its module docstring")
    data, _ = json.JSONDecoder().raw_decode(after[start:])
    example: dict[str, Any] = data
    return example


@lru_cache(maxsize=1)
def _catalog() -> tuple[NodeTypePublic, ...]:
    out = []
    for entry in node_types():
        cls = NODE_TYPES[entry["type"]]
        example = _example(cls)
        exits = cls.model_validate(example).exit_names(None)
        out.append(NodeTypePublic(**entry, example=example, example_exits=exits))
    return tuple(out)


@router.get("/node-types", operation_id="list_node_types")
def list_node_types(principal: PrincipalDep) -> list[NodeTypePublic]:
    """Every node type the editor's palette offers: its config schema, exits and an example
    node (a new node starts as a copy of it)."""
    return list(_catalog())


@router.get("/flow-schema", operation_id="get_flow_schema")
def get_flow_schema(principal: PrincipalDep) -> dict[str, Any]:
    """The JSON Schema of flow documents; the editor builds its trigger and settings forms
    from it (``$defs``: one ``*Trigger`` per trigger type, ``FlowSettings``)."""
    return flow_json_schema()


class ExitsRequest(BaseModel):
    nodes: list[dict[str, Any]] = Field(max_length=MAX_NODES_PER_FLOW)


class ExitsPublic(BaseModel):
    exits: dict[str, list[str]] = Field(description="node id → exit names, for nodes that parse")
    invalid: dict[str, str] = Field(description="node id → why its exits cannot be listed yet")


_NODE = TypeAdapter[Node](AnyNode)


@router.post("/node-types/exits", operation_id="node_exits")
def node_exits(body: ExitsRequest, principal: PrincipalDep) -> ExitsPublic:
    """The exits each node offers with its current settings. A node whose settings do not
    parse yet is reported in ``invalid`` (the editor keeps its previous exits meanwhile)."""
    valid: list[dict[str, Any]] = []
    invalid: dict[str, str] = {}
    for raw in body.nodes:
        node_id = str(raw.get("id", ""))
        # Wiring is irrelevant to which exits exist (and may name nodes not parsed yet).
        unwired = {**raw, "exits": {}}
        try:
            _NODE.validate_python(unwired)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"][1:])
            invalid[node_id] = f"{where}: {first['msg']}" if where else str(first["msg"])
        else:
            valid.append(unwired)
    # A wait for reply lists the buttons of the message it waits on: exits need the flow.
    flow = FlowDocument.model_validate({"metadata": {"name": "editor"}, "nodes": valid})
    exits = {node.id: node.exit_names(flow) for node in flow.nodes}
    return ExitsPublic(exits=exits, invalid=invalid)
