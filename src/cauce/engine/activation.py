"""One activation of a run: the working state the node types read and write.

An :class:`Activation` lives for one ``start``/``resume`` call. Node behaviour goes through it
for everything outside the node: rendering templates, evaluating conditions, emitting events,
ids, time, the contact (a working copy, so a tag added by one step is seen by the next), and
business time. It is the engine's side of the protocol in ``cauce.flows.nodes.base``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from cauce.engine.business_time import (
    BusinessTimeError,
    BusinessWindow,
    next_business_time,
    timezone_for_phone,
)
from cauce.engine.types import (
    ContactUpdated,
    Context,
    ErrorOccurred,
    MessageIn,
    MessageRequested,
    RunState,
)
from cauce.flows.common import Condition, TimeWindow
from cauce.flows.document import FlowDocument
from cauce.flows.nodes.base import Node
from cauce.flows.templates import TemplateError, evaluate, render
from cauce.limits import WHATSAPP_WINDOW_HOURS

_FREE_FORM = {"text", "buttons", "list", "media"}


class RunFailure(Exception):
    """Raised inside a step for a fatal problem: the run ends ``failed`` with this reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def copy_state(state: RunState) -> RunState:
    """A copy of ``state`` the engine may change without touching the caller's object.

    Steps replace values (never mutate nested ones), so copying the containers is enough.
    """
    return state.model_copy(update={
        "results": dict(state.results), "split_paths": dict(state.split_paths),
        "sent_messages": dict(state.sent_messages), "delivered": list(state.delivered)})


class Activation:
    def __init__(self, flow: FlowDocument, state: RunState, ctx: Context) -> None:
        self.flow = flow
        self.state = state
        self.ctx = ctx
        # Shallow copies of exactly what steps mutate: a deep copy was most of an activation.
        self.contact = ctx.contact.model_copy(update={"fields": dict(ctx.contact.fields),
                                                       "tags": list(ctx.contact.tags)})
        self.events: list[Any] = []
        self.last_error: str | None = None

    # -- time, ids, events ------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        return self.ctx.now

    def new_id(self) -> str:
        return self.ctx.new_id()

    def emit(self, event: Any) -> None:
        self.events.append(event)

    def emit_message(self, event: MessageRequested) -> None:
        self.emit(event)
        self.state.sent_messages[event.key] = event.node_id
        self.state.last_message_key = event.key

    def message_key(self, node: Node) -> str:
        # Deterministic: the same run at the same step always produces the same key, so a
        # re-processed input cannot send twice.
        return f"{self.state.run_id}:{node.id}:{self.state.steps}"

    def flow_key(self) -> str:
        return str(self.state.flow_id)

    def category(self, kind: str) -> Any:
        # Free-form WhatsApp can only be sent inside the customer-service window: service.
        return "service" if kind in _FREE_FORM else self.flow.settings.category

    def error(self, node: Node, code: str, message: str, field: str | None = None) -> None:
        text = f"{field}: {message}" if field else message
        self.last_error = text
        self.emit(ErrorOccurred(node_id=node.id, code=code, message=text))

    # -- data for templates and conditions --------------------------------------------------

    def data(self) -> dict[str, Any]:
        trigger = self.state.trigger
        workspace = self.ctx.workspace
        return {
            "contact": self.contact.model_dump(mode="json"),
            "trigger": trigger,
            "event": trigger.get("data", {}) if trigger.get("type") == "event" else {},
            "results": self.state.results,
            "message": self.state.last_inbound or {},
            "workspace": {**workspace.values, "id": workspace.id,
                          "timezone": workspace.timezone, "country": workspace.country},
            "run": {"id": self.state.run_id, "flow_id": self.state.flow_id,
                    "flow_version": self.state.flow_version,
                    "started_at": self.state.started_at.isoformat()},
            "flow": {"name": self.flow.metadata.name},
            "now": self.now.isoformat(),
        }

    def render(self, node: Node, field: str, source: str | None) -> str | None:
        """The rendered text, or None after emitting an ErrorOccurred (tier 1)."""
        if source is None:
            return None
        try:
            return render(source, self.data())
        except TemplateError as exc:
            self.error(node, "template_error", str(exc), field)
            return None

    def check(self, node: Node, field: str, condition: Condition,
              data: dict[str, Any] | None = None) -> bool:
        """Whether the condition holds; a broken expression is an error event and False."""
        try:
            return evaluate(condition, data if data is not None else self.data())
        except TemplateError as exc:
            self.error(node, "condition_error", str(exc), field)
            return False

    # -- results and contact ----------------------------------------------------------------

    def save_result(self, node: Node, name: str | None, value: Any) -> None:
        self.state.results[node.id] = value
        if name:
            self.state.results[name] = value

    def note_inbound(self, message: MessageIn) -> None:
        self.state.last_inbound = {
            "text": message.text, "channel": message.channel, "button_id": message.button_id,
            "button_title": message.button_title, "at": message.received_at.isoformat()}
        self.contact.last_inbound_at = max(filter(None, [self.contact.last_inbound_at,
                                                         message.received_at]))

    def update_contact(self, node: Node, *, fields: dict[str, Any] | None = None,
                       add_tags: list[str] | None = None, remove_tags: list[str] | None = None,
                       lead_score_delta: int = 0, opt_out_marketing: bool | None = None) -> None:
        """Emit a ContactUpdated and apply it to this activation's working copy."""
        event = ContactUpdated(node_id=node.id, fields=fields or {}, add_tags=add_tags or [],
                               remove_tags=remove_tags or [], lead_score_delta=lead_score_delta,
                               opt_out_marketing=opt_out_marketing)
        self.emit(event)
        c = self.contact
        core = set(type(c).model_fields) - {"id", "tags", "fields", "lead_score"}
        for key, value in event.fields.items():
            if key in core:
                setattr(c, key, value)
            else:
                c.fields[key] = value
        c.tags = [t for t in c.tags if t not in event.remove_tags]
        c.tags += [t for t in event.add_tags if t not in c.tags]
        c.lead_score += lead_score_delta
        if opt_out_marketing is not None:
            c.opted_out_marketing = opt_out_marketing

    # -- time zones, windows, delivery ------------------------------------------------------

    def timezone(self) -> str:
        default = self.ctx.workspace.timezone
        if self.flow.settings.timezone == "workspace":
            return default
        if self.contact.timezone:
            return self.contact.timezone
        if self.contact.phone:
            try:
                return timezone_for_phone(self.contact.phone, default)
            except BusinessTimeError:
                return default
        return default

    def country(self) -> str | None:
        return self.contact.country or self.ctx.workspace.country

    def business_time(self, earliest: datetime, window: TimeWindow | None) -> datetime:
        """The first moment ≥ earliest inside ``window`` (fails the run when impossible)."""
        if window is None:
            return earliest
        try:
            bw = BusinessWindow(weekdays=frozenset(window.weekdays), start=window.start,
                                end=window.end, skip_holidays=window.skip_holidays)
            return next_business_time(earliest, bw, self.timezone(), self.country())
        except BusinessTimeError as exc:
            raise RunFailure(f"business time: {exc}") from None

    def window_open(self) -> bool:
        """Whether the WhatsApp customer-service window is open now."""
        last = self.contact.last_inbound_at
        return last is not None and self.now - last < timedelta(hours=WHATSAPP_WINDOW_HOURS)

    def is_delivered(self, key: str) -> bool:
        return key in self.state.delivered

    def last_message_key(self, node_id: str | None) -> str | None:
        if node_id is None:
            return self.state.last_message_key
        keys = [k for k, n in self.state.sent_messages.items() if n == node_id]
        return keys[-1] if keys else None
