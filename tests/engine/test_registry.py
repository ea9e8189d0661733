"""The node registry: every type parses its own docstring example and describes itself."""

from __future__ import annotations

import importlib
import json

import pytest

from cauce.flows.catalog import node_types
from cauce.flows.document import flow_json_schema, load_flow
from cauce.flows.registry import NODE_TYPES

from .helpers import flow


def _example(node_type: str) -> dict[str, object]:
    module = importlib.import_module(NODE_TYPES[node_type].__module__)
    doc = module.__doc__ or ""
    assert "Example:" in doc, f"{module.__name__} has no docstring example"
    data: dict[str, object] = json.loads(doc.split("Example:", 1)[1])
    return data


@pytest.mark.parametrize("node_type", sorted(NODE_TYPES))
def test_docstring_example_parses_as_that_type(node_type: str) -> None:
    example = _example(node_type)
    assert example["type"] == node_type
    node = NODE_TYPES[node_type].model_validate(example)
    # Its exits are the ones the type declares (checked against a flow holding it).
    doc = load_flow({"metadata": {"name": "x"}, "nodes": [example]})
    assert set(node.exits) <= set(node.exit_names(doc)) or node_type == "wait_for_reply"


def test_registry_keys_match_type_literals() -> None:
    for name, cls in NODE_TYPES.items():
        assert cls.model_fields["type"].annotation.__args__ == (name,)  # type: ignore[union-attr]


def test_catalog_lists_every_type_with_schema_and_exits() -> None:
    catalog = {item["type"]: item for item in node_types()}
    assert set(catalog) == set(NODE_TYPES)
    assert catalog["window_check"]["exits"] == ["open", "closed"]
    assert catalog["whatsapp_buttons"]["dynamic_exits"] == "one per button id"
    assert "properties" in catalog["delay"]["config_schema"]
    json.dumps(catalog)  # JSON-serialisable for `cauce flows node-types --json`


def test_flow_json_schema_covers_nodes_and_triggers() -> None:
    schema = json.dumps(flow_json_schema())
    for name in NODE_TYPES:
        assert f'"{name}"' in schema
    assert "opportunity_changed" in schema and "layout" in schema


def test_yaml_is_accepted() -> None:
    from cauce.flows.document import load_flow_text

    text = ("metadata: {name: y}\ntriggers: [{type: manual}]\nnodes:\n"
            "  - {id: w, type: delay, config: {duration: 2h}, exits: {next: null}}\n")
    assert load_flow_text(text, "f.yaml").nodes[0].type == "delay"
    assert flow().metadata.name == "test"
