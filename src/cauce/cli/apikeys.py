"""``cauce apikeys``: machine credentials."""

from __future__ import annotations

import typer
from sqlalchemy import select

from cauce.cli import app, fail, operator_errors
from cauce.cli.common import open_cauce
from cauce.services import auth
from cauce.services.errors import ServiceError
from cauce.store.models import Workspace

keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="apikeys")


@keys_app.command("create")
@operator_errors
def create(
    name: str = typer.Option(..., "--name", help="What the key is for."),
    workspace: str = typer.Option("demo", "--workspace", help="Workspace slug."),
    role: str = typer.Option("admin", "--role", help="owner|admin|editor|agent|viewer"),
) -> None:
    """Create an API key and print it (it is shown only once)."""
    _, cauce = open_cauce()
    try:
        with cauce.transaction() as session:
            ws_id = session.scalar(select(Workspace.id).where(Workspace.slug == workspace))
            if ws_id is None:
                raise fail(f"workspace '{workspace}' does not exist")
            created = auth.create_api_key(session, ws_id, name, cauce.clock.now(), role)
    except ServiceError as exc:
        raise fail(exc.message) from None
    finally:
        cauce.close()
    typer.echo(created.key)
