"""`cauce flows templates` and `cauce flows from-template`: the playbook library from the
command line, through the same service as `POST /api/v1/flows/from-template`."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cauce.cli import _register, app
from cauce.flows.playbooks import TEMPLATES, template_ids

_register()


def test_templates_lists_the_library_with_parameters_and_kpis() -> None:
    runner = CliRunner()
    listed = runner.invoke(app, ["flows", "templates"])
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    heads = [line.split()[0] for line in lines if not line.startswith(" ")]
    assert heads == template_ids()
    cart = lines.index(next(line for line in lines if line.startswith("cart_recovery ")))
    assert lines[cart] == "cart_recovery  [playbook]  2) Cart or quote recovery"
    assert "cart_event=cart.abandoned" in lines[cart + 1]
    assert "follow_up_after=25h" in lines[cart + 1] and "language=es" in lines[cart + 1]
    assert ", last_call_sms," in lines[cart + 1]  # message copy: named, not printed
    assert "recovery_rate (percent)" in lines[cart + 2]
    spanish = runner.invoke(app, ["flows", "templates", "--language", "es"])
    assert "cart_recovery  [playbook]  2) Recuperación" in spanish.output

    as_json = runner.invoke(app, ["flows", "templates", "--json"])
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.output)
    assert [t["id"] for t in data] == template_ids()
    for item, template in zip(data, TEMPLATES, strict=True):
        assert [p["id"] for p in item["parameters"]] == [p.id for p in template.all_params]
        assert [k["id"] for k in item["kpis"]] == [k.id for k in template.kpis]
        assert item["parameters_schema"]["type"] == "object"
    bad = runner.invoke(app, ["flows", "templates", "--language", "fr"])
    assert bad.exit_code == 2 and "--language" in bad.output


@pytest.mark.usefixtures("cli_env")
def test_from_template_creates_and_publishes_with_typed_parameters(api: TestClient) -> None:
    runner = CliRunner()
    made = runner.invoke(app, [
        "flows", "from-template", "lead_scoring", "--param", "hot_threshold=60",
        "--param", "signals=precio, stock", "--param", "alert_to=", "--param", "language=en",
        "--name", "Scoring mayorista", "--publish"])
    assert made.exit_code == 0, made.output
    assert "created from lead_scoring, published as version 1" in made.output
    flow_id = int(made.output.split()[1])
    flow = api.get(f"/api/v1/flows/{flow_id}").json()
    assert flow["name"] == "Scoring mayorista" and flow["published_version"] == 1
    doc = api.get(f"/api/v1/flows/{flow_id}/versions/1").json()["document"]
    assert doc["metadata"]["language"] == "en"
    assert doc["triggers"][0]["regex"] == "precio|stock"
    category = next(n for n in doc["nodes"] if n["id"] == "category")
    assert category["config"]["branches"][0]["when"]["rules"][0]["value"] == 60
    # The same flow the API builds from the same parameters, and its KPIs are served.
    kpis = api.get(f"/api/v1/flows/{flow_id}/kpis").json()
    assert kpis["template_id"] == "lead_scoring" and kpis["runs_started"] == 0

    draft = runner.invoke(app, ["flows", "from-template", "cart_recovery"])
    assert draft.exit_code == 0 and draft.output.rstrip().endswith("(draft)")
    draft_id = int(draft.output.split()[1])
    assert api.get(f"/api/v1/flows/{draft_id}").json()["published_version"] is None


@pytest.mark.usefixtures("cli_env")
@pytest.mark.parametrize(("args", "says"), [
    (["nope"], "no flow template 'nope'"),
    (["cart_recovery", "--param", "follow_up_after=soon"], "'soon' is not a duration"),
    (["cart_recovery", "--param", "colour=red"], "unknown parameter of cart_recovery"),
    (["cart_recovery", "--param", "follow_up_after"], "write NAME=VALUE"),
    (["lead_scoring", "--param", "hot_threshold=many"], "'many' is not an integer"),
    (["lead_scoring", "--param", "hot_threshold=0"], "hot_threshold must be between 1"),
    (["cart_recovery", "--workspace", "ghost"], "workspace 'ghost' does not exist"),
])
def test_from_template_refuses_bad_input_with_one_line_and_saves_nothing(
    api: TestClient, args: list[str], says: str
) -> None:
    out = CliRunner().invoke(app, ["flows", "from-template", *args])
    assert out.exit_code == 2, out.output
    assert says in out.output
    assert api.get("/api/v1/flows").json() == []
