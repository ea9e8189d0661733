"""`cauce flows ...` commands work without a database."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cauce.cli import _register, app
from cauce.flows.examples import EXAMPLES_DIR

_register()
runner = CliRunner()


def test_validate_ok_and_error(tmp_path: Path) -> None:
    ok = runner.invoke(app, ["flows", "validate", str(EXAMPLES_DIR / "reactivation.json")])
    assert ok.exit_code == 0, ok.output
    assert "0 error(s)" in ok.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("metadata: {name: b}\ntriggers: [{type: manual}]\nnodes:\n"
                   "  - {id: a, type: wait_for_reply, config: {}, exits: {replied: ghost}}\n")
    result = runner.invoke(app, ["flows", "validate", str(bad)])
    assert result.exit_code == 1
    assert "[missing_timeout] node a field config.timeout" in result.output
    assert "[dangling_exit] node a field exits.replied" in result.output
    as_json = runner.invoke(app, ["flows", "validate", "--json", str(bad)])
    assert {p["code"] for p in json.loads(as_json.output)} >= {"missing_timeout"}


def test_validate_unreadable_file(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["flows", "validate", str(tmp_path / "nope.json")])
    assert missing.exit_code == 2 and "no such file" in missing.output
    broken = tmp_path / "broken.json"
    broken.write_text("{nope")
    result = runner.invoke(app, ["flows", "validate", str(broken)])
    assert result.exit_code == 2 and "not valid JSON" in result.output


def test_node_types_and_schema() -> None:
    listing = runner.invoke(app, ["flows", "node-types"])
    assert listing.exit_code == 0 and "window_check" in listing.output
    full = json.loads(runner.invoke(app, ["flows", "node-types", "--json"]).output)
    assert {t["type"] for t in full} >= {"delay", "ai_classify_intent"}
    schema = json.loads(runner.invoke(app, ["flows", "schema"]).output)
    assert schema["title"] == "FlowDocument"


def test_flow_tests_pass_and_fail(tmp_path: Path) -> None:
    result = runner.invoke(app, ["flows", "test", str(EXAMPLES_DIR / "reactivation.json")])
    assert result.exit_code == 0, result.output
    assert "2 passed, 0 failed" in result.output
    flow = tmp_path / "f.json"
    flow.write_text((EXAMPLES_DIR / "reactivation.json").read_text())
    (tmp_path / "f.tests.yaml").write_text(
        "cases:\n  - name: wrong\n    steps:\n      - manual: {}\n"
        "      - expect: {status: completed, messages: [{kind: sms}]}\n")
    failing = runner.invoke(app, ["flows", "test", str(flow)])
    assert failing.exit_code == 1
    assert "FAIL wrong" in failing.output and "expected status completed" in failing.output
