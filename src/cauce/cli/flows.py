"""``cauce flows``: validate, describe and test flow documents (no database needed); import,
export and create stored flows from the playbook library (these need the database)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from cauce.cli import app, fail, operator_errors

if TYPE_CHECKING:
    from cauce.services.container import Cauce

flows_app = typer.Typer(help="Flow documents: validate, test, describe.", no_args_is_help=True)
app.add_typer(flows_app, name="flows")


def _read(path: Path) -> Any:
    from cauce.flows.document import parse_text

    if not path.is_file():
        raise fail(f"{path}: no such file")
    try:
        return parse_text(path.read_text(encoding="utf-8"), path.name)
    except ValueError as exc:  # JSONDecodeError and yaml errors both derive from ValueError
        raise fail(f"{path}: not valid JSON/YAML: {exc}") from None
    except Exception as exc:  # yaml.YAMLError is not a ValueError
        raise fail(f"{path}: not valid JSON/YAML: {exc}") from None


@flows_app.command("validate")
def validate(
    file: Path = typer.Argument(..., help="Flow document (.json, .yaml)."),
    as_json: bool = typer.Option(False, "--json", help="Print the problems as JSON."),
) -> None:
    """Print every problem of a flow; exit 1 when any is an error."""
    from cauce.flows.validate import has_errors, validate_document

    problems = validate_document(_read(file))
    if as_json:
        typer.echo(json.dumps([p.model_dump() for p in problems], indent=2, ensure_ascii=False))
    else:
        for problem in problems:
            typer.echo(problem.line())
        errors = sum(p.severity == "error" for p in problems)
        typer.echo(f"{file}: {errors} error(s), {len(problems) - errors} warning(s)")
    if has_errors(problems):
        raise typer.Exit(1)


@flows_app.command("node-types")
def node_types(
    as_json: bool = typer.Option(False, "--json", help="Full JSON with config schemas."),
) -> None:
    """List node types with their exits (and config JSON Schema with --json)."""
    from cauce.flows.catalog import node_types as catalog

    types = catalog()
    if as_json:
        typer.echo(json.dumps(types, indent=2, ensure_ascii=False))
        return
    for item in types:
        exits = ", ".join(item["exits"])
        if item["dynamic_exits"]:
            exits = f"{exits}; {item['dynamic_exits']}" if exits else item["dynamic_exits"]
        typer.echo(f"{item['type']:<20} {item['category']:<8} {item['summary']}  [{exits}]")


@flows_app.command("schema")
def schema() -> None:
    """Print the JSON Schema of flow documents."""
    from cauce.flows.document import flow_json_schema

    typer.echo(json.dumps(flow_json_schema(), indent=2, ensure_ascii=False))


def _tests_file(path: Path) -> tuple[Path, Path | None]:
    """(tests file, flow file) from either the flow or its ``.tests.yaml``/``.tests.json``."""
    name = path.name
    for suffix in (".tests.yaml", ".tests.yml", ".tests.json"):
        if name.endswith(suffix):
            return path, None
    stem = name.rsplit(".", 1)[0]
    for suffix in (".tests.yaml", ".tests.yml", ".tests.json"):
        candidate = path.with_name(stem + suffix)
        if candidate.is_file():
            return candidate, path
    raise fail(f"no test cases next to {path} (expected {stem}.tests.yaml)")


@flows_app.command("test")
def test(file: Path = typer.Argument(..., help="A flow, or its .tests.yaml file.")) -> None:
    """Run a flow's test cases on virtual time; exit 1 when any expectation fails."""
    from pydantic import ValidationError

    from cauce.engine.simulate import Scenario, run_scenario
    from cauce.flows.document import load_flow

    tests_path, flow_path = _tests_file(file)
    spec = _read(tests_path)
    if not isinstance(spec, dict) or not isinstance(spec.get("cases"), list):
        raise fail(f"{tests_path}: expected an object with a 'cases' list")
    if flow_path is None:
        if not spec.get("flow"):
            raise fail(f"{tests_path}: say which flow to test with 'flow: FILE'")
        flow_path = tests_path.parent / str(spec["flow"])
    try:
        flow = load_flow(_read(flow_path))
    except ValidationError as exc:
        raise fail(f"{flow_path}: not a valid flow; run 'cauce flows validate' ({exc.error_count()}"
                   " problem(s))") from None
    failed = 0
    for i, raw_case in enumerate(spec["cases"], start=1):
        try:
            case = Scenario.model_validate(raw_case)
            result = run_scenario(case, flow)
        except (ValidationError, ValueError) as exc:
            raise fail(f"{tests_path}: case {i}: {exc}") from None
        label = case.name or f"case {i}"
        if result.failures:
            failed += 1
            typer.secho(f"FAIL {label}", fg=typer.colors.RED)
            for failure in result.failures:
                typer.echo(f"     {failure}")
        else:
            typer.secho(f"ok   {label}", fg=typer.colors.GREEN)
    typer.echo(f"{len(spec['cases']) - failed} passed, {failed} failed")
    if failed:
        raise typer.Exit(1)


# ---------------------------------------------------------------------------------------------
# Stored flows (these need the database)
# ---------------------------------------------------------------------------------------------


def _workspace_id(session: Any, slug: str) -> int:
    from sqlalchemy import select

    from cauce.store.models import Workspace

    ws_id = session.scalar(select(Workspace.id).where(Workspace.slug == slug))
    if ws_id is None:
        raise fail(f"workspace '{slug}' does not exist")
    return int(ws_id)


@contextmanager
def _writing_flows() -> Iterator[Cauce]:
    """Cauce for a command that stores a flow: a flow that cannot be published prints every
    problem and exits 1; any other refusal prints its message and exits 2."""
    from cauce.cli.common import open_cauce
    from cauce.services import flows
    from cauce.services.errors import ServiceError

    _, cauce = open_cauce()
    try:
        yield cauce
    except flows.FlowInvalid as exc:
        for problem in exc.problems:
            typer.echo(problem.line(), err=True)
        raise fail(exc.message, 1) from None
    except ServiceError as exc:
        raise fail(exc.message) from None
    finally:
        cauce.close()


@flows_app.command("import")
@operator_errors
def import_(
    file: Path = typer.Argument(..., help="Flow document (.json, .yaml)."),
    workspace: str = typer.Option("demo", "--workspace", help="Workspace slug."),
    publish: bool = typer.Option(False, "--publish", help="Publish it right away."),
) -> None:
    """Store a flow document as a new flow (a draft, or published with --publish)."""
    from cauce.services import flows
    from cauce.services.auth import Principal

    if not file.is_file():
        raise fail(f"{file}: no such file")
    with _writing_flows() as cauce, cauce.transaction() as session:
        principal = Principal(_workspace_id(session, workspace), "cli", "owner")
        now = cauce.clock.now()
        row = flows.import_flow(session, principal, file.read_text(encoding="utf-8"), now,
                                filename=file.name)
        version = flows.publish(session, principal, row.id, now) if publish else None
        flow_id, name = row.id, row.name
    suffix = f", published as version {version.number}" if version else " (draft)"
    typer.echo(f"flow {flow_id} '{name}' imported{suffix}")


@flows_app.command("export")
@operator_errors
def export(
    flow_id: int = typer.Argument(..., help="The flow's id."),
    workspace: str = typer.Option("demo", "--workspace", help="Workspace slug."),
    fmt: str = typer.Option("json", "--format", help="json or yaml."),
    version: int | None = typer.Option(None, "--version", help="A published version "
                                       "(default: the draft)."),
) -> None:
    """Print a stored flow (draft or a version) as JSON or YAML."""
    from cauce.cli.common import open_cauce
    from cauce.services import flows
    from cauce.services.errors import ServiceError

    if fmt not in ("json", "yaml"):
        raise fail("--format must be json or yaml")
    _, cauce = open_cauce()
    try:
        with cauce.transaction() as session:
            text = flows.export_flow(session, _workspace_id(session, workspace), flow_id,
                                     version=version, fmt="yaml" if fmt == "yaml" else "json")
    except ServiceError as exc:
        raise fail(exc.message) from None
    finally:
        cauce.close()
    typer.echo(text, nl=False)


# ---------------------------------------------------------------------------------------------
# The playbook library (docs/playbooks/)
# ---------------------------------------------------------------------------------------------


@flows_app.command("templates")
def templates(
    as_json: bool = typer.Option(False, "--json", help="Full JSON: parameters with their "
                                 "schema and defaults, KPIs with how they are computed."),
    language: str = typer.Option("en", "--language", help="es or en: names and labels."),
) -> None:
    """List the playbook library: id, name, parameters and KPIs of every template."""
    from cauce.flows.playbooks import TEMPLATES

    if language not in ("es", "en"):
        raise fail("--language must be es or en")
    if as_json:
        typer.echo(json.dumps([t.public(detail=False) for t in TEMPLATES], indent=2,
                              ensure_ascii=False))
        return
    for t in TEMPLATES:
        typer.echo(f"{t.id}  [{t.kind}]  {getattr(t.name, language)}")
        # Message copy is long: named only (its defaults are in --json and docs/playbooks/).
        params = ", ".join(p.id if p.kind == "text" else f"{p.id}={_shown(p.default)}"
                           for p in t.all_params)
        typer.echo(f"    parameters: {params}")
        typer.echo(f"    KPIs: {', '.join(f'{k.id} ({k.unit})' for k in t.kpis)}")


def _shown(value: Any) -> str:
    if value is None:
        return "(empty)"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def _parameters(template_id: str, pairs: list[str]) -> dict[str, Any]:
    """``k=v`` pairs typed by the template's parameter kinds: integers as numbers, keywords
    as a comma-separated list (or a JSON list), an empty value as empty (optional ones)."""
    from cauce.flows.playbooks import get_template

    try:
        known = {p.id: p for p in get_template(template_id).all_params}
    except KeyError:
        raise fail(f"no flow template '{template_id}' (see 'cauce flows templates')") from None
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise fail(f"--param {pair!r}: write NAME=VALUE")
        param = known.get(key)
        if param is None:
            raise fail(f"--param {key}: unknown parameter of {template_id} (known: "
                       f"{', '.join(known)})")
        value: Any = raw
        if raw == "":
            value = None
        elif param.kind == "integer":
            try:
                value = int(raw)
            except ValueError:
                raise fail(f"--param {key}: '{raw}' is not an integer") from None
        elif param.kind == "keywords":
            if raw.lstrip().startswith("["):
                try:
                    value = json.loads(raw)
                except ValueError:
                    raise fail(f"--param {key}: not a JSON list: {raw}") from None
            else:
                value = [v.strip() for v in raw.split(",") if v.strip()]
        out[key] = value
    return out


@flows_app.command("from-template")
@operator_errors
def from_template(
    template_id: str = typer.Argument(..., help="A template id (see 'cauce flows templates')."),
    params: list[str] = typer.Option([], "--param", help="NAME=VALUE, repeatable; the other "
                                      "parameters take their defaults."),
    name: str | None = typer.Option(None, "--name", help="The flow's name (default: the "
                                    "template's)."),
    workspace: str = typer.Option("demo", "--workspace", help="Workspace slug."),
    publish: bool = typer.Option(False, "--publish", help="Publish version 1 right away."),
) -> None:
    """Create a flow from a template of the playbook library (a draft, or published)."""
    from cauce.services import flow_templates
    from cauce.services.auth import Principal

    parameters = _parameters(template_id, params)
    with _writing_flows() as cauce, cauce.transaction() as session:
        principal = Principal(_workspace_id(session, workspace), "cli", "owner")
        row = flow_templates.create_from_template(
            session, principal, template_id, parameters, cauce.clock.now(), name=name,
            publish=publish)
        flow_id, flow_name, version = row.id, row.name, row.published_version
    suffix = f", published as version {version}" if version else " (draft)"
    typer.echo(f"flow {flow_id} '{flow_name}' created from {template_id}{suffix}")
