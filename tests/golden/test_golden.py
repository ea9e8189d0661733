"""Golden files are the engine's specification: flow + contact + inputs -> expected events.

Each ``tests/golden/<node_type>/*.json`` (and ``flows/*.json`` for the shipped example flows)
is a :class:`cauce.engine.simulate.Scenario` plus ``expected`` (the events of every step) and
optionally ``example`` (the name of a shipped flow instead of an inline ``flow``).
Regenerate with ``pytest tests/golden --update-golden`` and review the diff.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cauce.engine.simulate import Scenario, run_scenario
from cauce.flows.document import load_flow
from cauce.flows.examples import example_names, load_example
from cauce.flows.registry import NODE_TYPES
from cauce.flows.validate import validate_document

GOLDEN = Path(__file__).parent
FIXTURES = sorted(GOLDEN.glob("*/*.json"))


def _play(data: dict[str, Any]) -> tuple[list[list[dict[str, Any]]], list[str]]:
    raw = dict(data)
    raw.pop("expected", None)
    example = raw.pop("example", None)
    scenario = Scenario.model_validate(raw)
    flow = load_flow(load_example(example) if example else scenario.flow or {})
    result = run_scenario(scenario, flow)
    return result.steps, result.failures


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_golden(path: Path, update_golden: bool) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    steps, failures = _play(data)
    assert failures == [], f"{path.name}: expectations inside the fixture failed"
    if update_golden:
        data["expected"] = steps
        path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        return
    assert "expected" in data, f"{path} has no expectations yet: run with --update-golden"
    assert steps == data["expected"]


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_golden_flows_are_valid(path: Path) -> None:
    # A fixture must not rely on a flow the validator rejects (warnings are fine).
    data = json.loads(path.read_text(encoding="utf-8"))
    doc = load_example(data["example"]) if "example" in data else data["flow"]
    errors = [p.line() for p in validate_document(doc) if p.severity == "error"
              and p.code != "whatsapp_window"]  # some fixtures test sending free-form on purpose
    assert errors == []


def test_every_node_type_has_a_golden_fixture() -> None:
    covered: set[str] = set()
    for path in FIXTURES:
        data = json.loads(path.read_text(encoding="utf-8"))
        doc = load_example(data["example"]) if "example" in data else data["flow"]
        if path.parent.name in NODE_TYPES:
            assert any(n["type"] == path.parent.name for n in doc["nodes"]), path
            covered.add(path.parent.name)
    missing = sorted(set(NODE_TYPES) - covered)
    assert missing == [], f"node types without a golden fixture in tests/golden/<type>/: {missing}"


def test_every_shipped_example_has_golden_scenarios() -> None:
    used = {json.loads(p.read_text(encoding="utf-8")).get("example") for p in FIXTURES}
    assert set(example_names()) <= used
