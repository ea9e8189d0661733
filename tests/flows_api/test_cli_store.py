"""`cauce flows import` / `export` against a real database (both backends)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from cauce.cli import _register, app
from cauce.flows.examples import EXAMPLES_DIR, load_example

_register()


@pytest.mark.usefixtures("cli_env")
def test_import_publish_and_export(tmp_path: Path) -> None:
    runner = CliRunner()
    imported = runner.invoke(app, ["flows", "import", str(EXAMPLES_DIR / "reactivation.json"),
                                   "--publish"])
    assert imported.exit_code == 0, imported.output
    assert "published as version 1" in imported.output
    flow_id = imported.output.split()[1]
    exported = runner.invoke(app, ["flows", "export", flow_id, "--format", "yaml"])
    assert exported.exit_code == 0, exported.output
    assert yaml.safe_load(exported.output) == load_example("reactivation")
    version = runner.invoke(app, ["flows", "export", flow_id, "--version", "1"])
    assert json.loads(version.output)["metadata"]["name"].startswith("Reactivación")

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"metadata": {"name": "b"}, "nodes": [
        {"id": "w", "type": "wait_for_reply", "config": {}, "exits": {}}]}))
    refused = runner.invoke(app, ["flows", "import", str(bad), "--publish"])
    assert refused.exit_code == 1
    assert "missing_timeout" in refused.output
    missing = runner.invoke(app, ["flows", "export", "424242"])
    assert missing.exit_code == 2 and "not found" in missing.output
