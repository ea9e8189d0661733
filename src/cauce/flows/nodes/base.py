"""What every node type shares: id, type, wiring of named exits, and the step protocol.

A node type is one module in this package with a pydantic ``*Config``, a ``Node`` subclass
whose ``type`` is a literal, its exits, its behaviour (``execute`` and, for waits, ``on_input``)
and a docstring example (a JSON node) that ``tests/engine/test_registry.py`` parses.

Behaviour talks to the engine only through :class:`cauce.engine.activation.Activation`
(imported for typing only, so documents load without the engine).
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field

from cauce.engine.types import RunStatus, WaitState
from cauce.flows.common import Problem, Strict

if TYPE_CHECKING:
    from cauce.engine.activation import Activation
    from cauce.engine.types import ActivityResult, DeliveryStatus, EventIn, MessageIn, TimerFired

    InputT = MessageIn | EventIn | TimerFired | ActivityResult | DeliveryStatus
    from cauce.flows.document import FlowDocument

Category = Literal["message", "wait", "logic", "data", "ai"]


@dataclass
class Outcome:
    """What a step decided: follow an exit, wait, or end the run."""

    exit: str | None = None
    wait: WaitState | None = None
    end: RunStatus | None = None
    reason: str | None = None

    @classmethod
    def go(cls, exit_name: str) -> Outcome:
        return cls(exit=exit_name)


class Node(Strict):
    """Fields common to all nodes. ``exits`` maps an exit name to the next node id (or null)."""

    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")
    type: str
    name: str = ""
    exits: dict[str, str | None] = Field(default_factory=dict)

    category: ClassVar[Category] = "data"
    # A node that pauses for an outside happening (time, reply, event): breaks hot loops.
    waits: ClassVar[bool] = False
    # A message to the contact: held back until the flow's communication window.
    communication: ClassVar[bool] = False
    # WhatsApp free-form message (text, buttons, list, media): needs the 24-hour window.
    free_form_whatsapp: ClassVar[bool] = False
    summary: ClassVar[str] = ""

    def exit_names(self, flow: FlowDocument | None = None) -> list[str]:
        """The exits this node can take, in editor order."""
        return ["next"]

    def templates(self) -> list[tuple[str, str]]:
        """(field path, Liquid source) pairs the validator checks for unknown variables."""
        return []

    def check(self, flow: FlowDocument) -> list[Problem]:
        """Problems specific to this node type (limits, references)."""
        return []

    @abstractmethod
    def execute(self, act: Activation) -> Outcome:
        """Run the step. Must not raise for problems inside the run (see the error tiers)."""

    def on_input(self, act: Activation, wait: WaitState, inp: InputT) -> Outcome | None:
        """An input arrived while this node waits. None: not for me, keep waiting."""
        return None

    def problem(self, code: str, message: str, field: str | None = None,
                severity: Literal["error", "warning"] = "error") -> Problem:
        return Problem(severity=severity, code=code, message=message, node_id=self.id,
                       field=field)


MESSAGE_EXITS = ["next", "failed"]


def config_dump(model: Any) -> dict[str, Any]:
    """A config as plain JSON data (for events that carry the node's settings)."""
    data: dict[str, Any] = model.model_dump(mode="json")
    return data
