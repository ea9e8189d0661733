"""What the runtime needs from the flow engine, as a port.

The runtime persists; the engine decides. Three decisions are asked of the engine, all pure:
``plan`` (which of the contact's runs an input resumes or interrupts, and which flows it
starts, applying re-entry and stop-on-reply across runs), ``start`` and ``resume``.
:func:`default_engine` adapts ``cauce.engine``; tests may pass any object with these methods.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from cauce.engine.types import ContactSnapshot, Context, Input, RunState, Step


@dataclass(frozen=True)
class PublishedFlow:
    """A flow version new runs may start on (the flow's current published version)."""

    flow_id: int
    version: int
    document: dict[str, Any]


@dataclass(frozen=True)
class PastRun:
    """The contact's runs of one flow that are no longer waiting (re-entry rules)."""

    flow_id: int
    count: int
    last_ended_at: datetime


@dataclass
class Plan:
    """What one input does to a contact's runs."""

    resume: list[str] = field(default_factory=list)  # run ids, in this order
    start: list[PublishedFlow] = field(default_factory=list)
    interrupt: list[tuple[str, str]] = field(default_factory=list)  # (run id, reason)


class FlowEngine(Protocol):
    def plan(
        self, *, input: Input, contact: ContactSnapshot, waiting: list[RunState],
        past: list[PastRun], flows: list[PublishedFlow],
        versions: dict[tuple[int, int], dict[str, Any]], now: datetime,
    ) -> Plan:
        """Decide which waiting runs ``input`` resumes or interrupts and which flows it starts.

        ``versions`` maps (flow id, version) to the document of every waiting run's version.
        """
        ...

    def start(
        self, flow: PublishedFlow, run_id: str, input: Input, ctx: Context
    ) -> Step:
        """Start a new run of ``flow`` with id ``run_id``."""
        ...

    def resume(self, document: dict[str, Any], state: RunState, input: Input, ctx: Context) -> Step:
        """Advance a waiting run with ``input`` (a no-op Step when it does not concern it)."""
        ...

    def interrupt(self, state: RunState, ctx: Context, reason: str) -> Step:
        """End a waiting run from outside (re-entry, stop-on-reply, remove from flows)."""
        ...


def default_engine() -> FlowEngine:
    """The product's engine (``cauce.engine``) behind this port."""
    from cauce.runtime.engine_adapter import CauceEngine

    return CauceEngine()
