"""Is the WhatsApp customer-service window (24 h since the contact's last message) open?
Exits ``open`` and ``closed``: free-form WhatsApp messages belong on ``open``.

Example:

    {
      "id": "csw",
      "type": "window_check",
      "config": {},
      "exits": {
        "open": null,
        "closed": null
      }
    }
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from cauce.flows.common import Strict
from cauce.flows.nodes.base import Node, Outcome

if TYPE_CHECKING:
    from cauce.engine.activation import Activation
    from cauce.flows.document import FlowDocument


class WindowCheckConfig(Strict):
    pass


class WindowCheck(Node):
    type: Literal["window_check"]
    config: WindowCheckConfig = WindowCheckConfig()

    category = "logic"
    summary = "Branch on the WhatsApp 24-hour customer-service window: open / closed."

    def exit_names(self, flow: FlowDocument | None = None) -> list[str]:
        return ["open", "closed"]

    def execute(self, act: Activation) -> Outcome:
        return Outcome.go("open" if act.window_open() else "closed")
