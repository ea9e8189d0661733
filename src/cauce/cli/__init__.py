"""The ``cauce`` command line (typer). Commands call services; they never run SQL themselves."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

import typer

from cauce import __version__

P = ParamSpec("P")
R = TypeVar("R")

app = typer.Typer(
    name="cauce",
    help="Cauce: WhatsApp-first flow automation. Settings come from CAUCE_* variables.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print one line to stderr and return the Exit to raise."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code)


def operator_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn configuration and connection problems into one line and exit code 2."""
    from cauce.services.container import SchemaNotCurrent
    from cauce.settings import ConfigError
    from cauce.store.db import DatabaseUnavailable

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except (ConfigError, DatabaseUnavailable, SchemaNotCurrent) as exc:
            raise fail(str(exc)) from None

    return wrapper


@app.command()
def version() -> None:
    """Print Cauce's version."""
    typer.echo(f"cauce {__version__}")


def _register() -> None:
    # Explicit table of command groups; each module adds its commands to `app`.
    from cauce.cli import (  # noqa: F401
        apikeys,
        channels,
        contacts,
        db,
        flows,
        server,
        sim,
        worker,
    )


def main() -> None:
    _register()
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
