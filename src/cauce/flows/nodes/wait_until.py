"""Wait until a date and time: a fixed/templated one (``at``) or a variable (``field``, e.g.
``contact.fields.appointment_at`` or ``event.delivery_date``) plus or minus an offset.
``if_past`` says what to do when that moment has already passed.

Example:

    {
      "id": "before_appt",
      "type": "wait_until",
      "config": {
        "field": "contact.fields.appointment_at",
        "offset": "1d",
        "direction": "before",
        "if_past": "past_exit"
      },
      "exits": {
        "next": null,
        "past": null,
        "failed": null
      }
    }
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import model_validator

from cauce.engine.types import TimerFired, WaitState
from cauce.flows.common import Duration, Strict
from cauce.flows.nodes.base import Node, Outcome
from cauce.flows.templates import lookup

if TYPE_CHECKING:
    from cauce.engine.activation import Activation
    from cauce.flows.document import FlowDocument
    from cauce.flows.nodes.base import InputT


class WaitUntilConfig(Strict):
    at: str | None = None  # ISO 8601 (Liquid allowed); naive times are in the flow's timezone
    field: str | None = None  # a variable path holding a date/time
    offset: Duration = Duration()
    direction: Literal["before", "after"] = "after"
    if_past: Literal["continue", "past_exit"] = "continue"

    @model_validator(mode="after")
    def _one_source(self) -> WaitUntilConfig:
        if (self.at is None) == (self.field is None):
            raise ValueError("set exactly one of 'at' and 'field'")
        return self


def parse_moment(value: Any, tz: str) -> datetime | None:
    """A datetime from an ISO string / datetime / unix number; naive values are in ``tz``."""
    from zoneinfo import ZoneInfo

    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    elif isinstance(value, str) and value.strip():
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(tz))
    return moment.astimezone(UTC)


class WaitUntil(Node):
    type: Literal["wait_until"]
    config: WaitUntilConfig

    category = "wait"
    waits = True
    summary = "Wait until a date/time, or a field's date ± an offset."

    def exit_names(self, flow: FlowDocument | None = None) -> list[str]:
        return ["next", "failed"] + (["past"] if self.config.if_past == "past_exit" else [])

    def templates(self) -> list[tuple[str, str]]:
        if self.config.at is not None:
            return [("config.at", self.config.at)]
        return [("config.field", "{{ " + str(self.config.field) + " }}")]

    def execute(self, act: Activation) -> Outcome:
        if self.config.at is not None:
            raw: Any = act.render(self, "config.at", self.config.at)
            if raw is None:
                return Outcome.go("failed")
        else:
            raw = lookup(act.data(), str(self.config.field))
        moment = parse_moment(raw, act.timezone())
        if moment is None:
            act.error(self, "bad_date", f"'{raw}' is not a date/time", "config")
            return Outcome.go("failed")
        sign = -1 if self.config.direction == "before" else 1
        due = moment + sign * self.config.offset.delta
        if due <= act.now:
            return Outcome.go("past" if self.config.if_past == "past_exit" else "next")
        return Outcome(wait=WaitState(kind="timer", node_id=self.id, due_at=due))

    def on_input(self, act: Activation, wait: WaitState, inp: InputT) -> Outcome | None:
        return Outcome.go("next") if isinstance(inp, TimerFired) else None
