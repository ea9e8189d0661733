"""``cauce contacts``: CSV import (with a progress bar and a bad-row report) and export."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import select

from cauce.cli import app, fail, operator_errors
from cauce.cli.common import open_cauce
from cauce.services import imports
from cauce.services.errors import ServiceError
from cauce.store.models import Workspace

contacts_app = typer.Typer(help="Contacts: import and export CSV.", no_args_is_help=True)
app.add_typer(contacts_app, name="contacts")


def _workspace_id(cauce: object, slug: str) -> int:
    from cauce.services.container import Cauce

    assert isinstance(cauce, Cauce)
    with cauce.transaction() as session:
        ws_id = session.scalar(select(Workspace.id).where(Workspace.slug == slug))
    if ws_id is None:
        raise fail(f"workspace '{slug}' does not exist")
    return int(ws_id)


def _parse_map(pairs: list[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for pair in pairs:
        column, sep, target = pair.partition("=")
        if not sep or not column.strip() or not target.strip():
            raise fail(f"--map '{pair}': use COLUMN=attribute, e.g. --map Telefono=phone")
        mapping[column.strip()] = target.strip()
    return mapping


@contacts_app.command("import")
@operator_errors
def import_(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV file, UTF-8."),
    map_: list[str] = typer.Option(
        ..., "--map", help="COLUMN=attribute (phone, email, external_id, name, first_name, "
        "last_name, language, tags, lead_score, opted_out_marketing, utm_*, fields.KEY, "
        "consent.CHANNEL); repeat for each column.",
    ),
    workspace: str = typer.Option("demo", "--workspace", help="Workspace slug."),
) -> None:
    """Import contacts; re-running the same file updates instead of duplicating."""
    mapping = _parse_map(map_)
    _, cauce = open_cauce()
    console = Console(stderr=True)
    try:
        ws_id = _workspace_id(cauce, workspace)
        try:
            with cauce.transaction() as session, file.open("rb") as handle:
                staged = imports.stage_import(
                    session, ws_id, file.name, handle, mapping, cauce.clock.now()
                )
        except ServiceError as exc:
            raise fail(exc.message) from None
        with Progress(
            TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            console=console, transient=False,
        ) as bar:
            task = bar.add_task("rows", total=staged.total_rows)
            job = imports.run_import(
                cauce, ws_id, staged.id,
                progress=lambda now: bar.update(task, completed=now.processed_rows),
            )
    finally:
        cauce.close()
    if job.status == "failed":
        raise fail(f"import {job.id} failed: {job.message}")
    typer.echo(
        f"import {job.id}: {job.created_count} created, {job.updated_count} updated, "
        f"{job.error_count} bad rows"
    )
    if job.errors:
        table = Table("row", "field", "reason", title="bad rows")
        for err in job.errors[:50]:
            table.add_row(str(err["row"]), str(err.get("field") or ""), str(err["reason"]))
        console.print(table)
        if job.error_count > 50:
            console.print(f"... and {job.error_count - 50} more (GET /api/v1/contacts/imports/"
                          f"{job.id})")


@contacts_app.command("export")
@operator_errors
def export(
    out: Path | None = typer.Option(None, "--out", help="File to write; stdout when omitted."),
    workspace: str = typer.Option("demo", "--workspace", help="Workspace slug."),
    segment: int | None = typer.Option(None, "--segment", help="Only this segment's contacts."),
    tag: str | None = typer.Option(None, "--tag", help="Only contacts with this tag."),
) -> None:
    """Export contacts as CSV."""
    _, cauce = open_cauce()
    try:
        ws_id = _workspace_id(cauce, workspace)
        try:
            with cauce.transaction() as session:
                imports.check_export_filter(session, ws_id, segment)
        except ServiceError as exc:
            raise fail(exc.message) from None
        chunks = imports.export_csv(cauce, ws_id, segment_id=segment, tag=tag)
        if out is None:
            for chunk in chunks:
                sys.stdout.write(chunk)
        else:
            with out.open("w", encoding="utf-8", newline="") as handle:
                for chunk in chunks:
                    handle.write(chunk)
            typer.echo(f"wrote {out}")
    finally:
        cauce.close()
