"""``cauce init`` and ``cauce serve``."""

from __future__ import annotations

import typer

from cauce.cli import app, operator_errors
from cauce.cli.common import open_cauce
from cauce.services.workspaces import ensure_demo
from cauce.store import migrate


@app.command()
@operator_errors
def init(demo: bool = typer.Option(True, help="Create the demo workspace.")) -> None:
    """Apply migrations and create the demo workspace with its admin and API key."""
    settings, cauce = open_cauce(require_schema=False)
    try:
        migrate.upgrade(cauce.engine)
        if not demo:
            return
        with cauce.transaction() as session:
            creds = ensure_demo(session, cauce.clock.now())
        if creds is None:
            typer.echo("Demo workspace already exists (its credentials were printed the first "
                       "time; `cauce apikeys create --name NAME` makes another key).")
            return
        url = f"http://{settings.host}:{settings.port}"
        typer.secho("Demo workspace created. These are shown only once:", bold=True)
        typer.echo(f"  web:      {url}  user {creds.email}  password {creds.password}")
        typer.echo(f"  API key:  {creds.api_key}")
        typer.echo(f"  try:      curl -H 'Authorization: Bearer {creds.api_key}' "
                   f"{url}/api/v1/workspace")
    finally:
        cauce.close()


@app.command()
@operator_errors
def serve(
    host: str | None = typer.Option(None, help="Overrides CAUCE_HOST."),
    port: int | None = typer.Option(None, help="Overrides CAUCE_PORT."),
) -> None:
    """Run the API, webhooks and (embedded mode) the runtime in one process."""
    import uvicorn

    from cauce.api.app import create_app
    from cauce.logging import configure_logging

    settings, cauce = open_cauce()
    overrides = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    if overrides:
        settings = settings.model_copy(update=overrides)
    configure_logging(settings.log_format, settings.log_level)
    from cauce.runtime.runner import embedded_start_hook

    application = create_app(settings, cauce=cauce, start_hooks=[embedded_start_hook],
                             warm_up=True)
    uvicorn.run(application, host=settings.host, port=settings.port, log_config=None)
