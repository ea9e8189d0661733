"""``cauce sim``: the virtual clock of simulations (``CAUCE_CLOCK=virtual``)."""

from __future__ import annotations

import typer

from cauce.cli import app, fail, operator_errors
from cauce.cli.common import open_cauce

sim_app = typer.Typer(help="Simulation: move the virtual clock.", no_args_is_help=True)
app.add_typer(sim_app, name="sim")


@sim_app.command("advance")
@operator_errors
def advance(seconds: float = typer.Argument(..., help="How far to move time forward.")) -> None:
    """Fire every timer due within SECONDS of virtual time, in order, and process what they
    cause. Needs CAUCE_CLOCK=virtual."""
    from cauce.services.errors import ServiceError
    from cauce.services.runs import advance_clock

    _, cauce = open_cauce()
    try:
        state = advance_clock(cauce, seconds)
    except ServiceError as exc:
        raise fail(exc.message) from None
    finally:
        cauce.close()
    typer.echo(f"virtual time is now {state.now.isoformat()} ({state.timers_fired} timers fired)")


@sim_app.command("now")
@operator_errors
def now() -> None:
    """Print the clock's mode and time."""
    from cauce.services.runs import clock_state

    _, cauce = open_cauce()
    try:
        state = clock_state(cauce)
    finally:
        cauce.close()
    typer.echo(f"{state.mode} {state.now.isoformat()}")
