"""``cauce db``: migrations."""

from __future__ import annotations

import typer

from cauce.cli import app, operator_errors
from cauce.cli.common import open_cauce
from cauce.store import migrate

db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
@operator_errors
def upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Apply migrations up to REVISION (default: the latest)."""
    _, cauce = open_cauce(require_schema=False)
    before = migrate.current_revision(cauce.engine)
    migrate.upgrade(cauce.engine, revision)
    after = migrate.current_revision(cauce.engine)
    typer.echo(f"database at {after} (was {before or 'empty'})")
    cauce.close()


@db_app.command("current")
@operator_errors
def current() -> None:
    """Print the database's migration revision and whether it is the latest."""
    _, cauce = open_cauce(require_schema=False)
    rev, head = migrate.current_revision(cauce.engine), migrate.head_revision()
    state = "current" if rev == head else f"behind head {head}: run `cauce db upgrade`"
    typer.echo(f"{rev or 'empty'} ({state})")
    cauce.close()
    if rev != head:
        raise typer.Exit(1)
