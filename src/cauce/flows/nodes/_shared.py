"""Pieces several node types share: WhatsApp template references, reply waits, activities."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from cauce.engine.types import (
    ActivityResult,
    DeliveryStatus,
    MessageIn,
    MessageRequested,
    TimerFired,
    WaitState,
)
from cauce.flows.common import Duration, Problem, Strict
from cauce.flows.nodes.base import Node, Outcome
from cauce.limits import WHATSAPP_BUTTON_TITLE_MAX, WHATSAPP_BUTTONS_MAX

if TYPE_CHECKING:
    from cauce.engine.activation import Activation
    from cauce.flows.nodes.base import InputT

RESERVED_EXITS = {"next", "failed", "replied", "timeout", "unsure", "else"}


class ReplyButton(Strict):
    """A reply button (or template quick reply). ``id`` is also the exit name it leads to."""

    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")
    title: str = Field(min_length=1)


class TemplateRef(Strict):
    """An approved WhatsApp template and the Liquid sources of its parameters."""

    name: str = Field(min_length=1)
    language: str = "es"
    header_params: list[str] = Field(default_factory=list)
    body_params: list[str] = Field(default_factory=list)
    buttons: list[ReplyButton] = Field(default_factory=list)  # quick replies, ≤ 3

    def templates(self, prefix: str) -> list[tuple[str, str]]:
        out = [(f"{prefix}.header_params.{i}", p) for i, p in enumerate(self.header_params)]
        out += [(f"{prefix}.body_params.{i}", p) for i, p in enumerate(self.body_params)]
        return out

    def render(self, act: Activation, node: Node, prefix: str) -> dict[str, Any] | None:
        header = [act.render(node, f"{prefix}.header_params.{i}", p)
                  for i, p in enumerate(self.header_params)]
        body = [act.render(node, f"{prefix}.body_params.{i}", p)
                for i, p in enumerate(self.body_params)]
        if any(v is None for v in [*header, *body]):
            return None
        return {
            "name": self.name, "language": self.language, "header": header, "body": body,
            "buttons": [{"index": i, "payload": b.id, "title": b.title}
                        for i, b in enumerate(self.buttons)],
        }


def check_buttons(node: Node, buttons: list[ReplyButton], field: str) -> list[Problem]:
    problems: list[Problem] = []
    if len(buttons) > WHATSAPP_BUTTONS_MAX:
        problems.append(node.problem(
            "too_many_buttons",
            f"{len(buttons)} buttons; WhatsApp allows at most {WHATSAPP_BUTTONS_MAX}", field))
    seen: set[str] = set()
    for i, button in enumerate(buttons):
        if len(button.title) > WHATSAPP_BUTTON_TITLE_MAX:
            problems.append(node.problem(
                "button_title_too_long",
                f"button title '{button.title}' has {len(button.title)} characters; "
                f"WhatsApp allows {WHATSAPP_BUTTON_TITLE_MAX}", f"{field}.{i}.title"))
        if button.id in seen:
            problems.append(node.problem("duplicate_button_id",
                                         f"button id '{button.id}' is used twice",
                                         f"{field}.{i}.id"))
        if button.id in RESERVED_EXITS:
            problems.append(node.problem(
                "reserved_exit_name", f"'{button.id}' is a reserved exit name; rename the id",
                f"{field}.{i}.id"))
        seen.add(button.id)
    return problems


def send(act: Activation, node: Node, *, channel: str,
         kind: Literal["text", "template", "buttons", "list", "media", "email", "sms"],
         payload: dict[str, Any] | None, fallback: TemplateRef | None = None) -> str | None:
    """Emit a MessageRequested (after rendering succeeded); returns its key, or None."""
    if payload is None:
        return None
    fallback_payload = None
    if fallback is not None:
        fallback_payload = fallback.render(act, node, "config.fallback_template")
        if fallback_payload is None:
            return None
    key = act.message_key(node)
    act.emit_message(MessageRequested(
        key=key, node_id=node.id, channel=channel, kind=kind,
        category=act.category(kind), payload=payload, fallback_template=fallback_payload))
    return key


# ------------------------------------------------------------------------------------------
# Waiting for a reply (wait_for_reply, and buttons/list which ask and wait in one step)
# ------------------------------------------------------------------------------------------


class KeywordRoute(Strict):
    """Replies containing one of ``words`` (case-insensitive) leave by exit ``exit``."""

    exit: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")
    words: list[str] = Field(min_length=1)


def start_reply_wait(act: Activation, node: Node, *, message_key: str | None,
                     timeout: Duration | None, routes: dict[str, str],
                     count_from: Literal["delivery", "entry"] = "delivery") -> Outcome:
    """Wait for the contact's reply. The timeout counts from the delivery of ``message_key``
    (the message the reply is to): the timer starts now and moves to delivery + timeout when
    the delivery report comes. Channels that never report delivery (email, SMS) thus still
    time out, counted from entry."""
    delivered = message_key is None or count_from == "entry" or act.is_delivered(message_key)
    due = act.now + timeout.delta if timeout is not None else None
    return Outcome(wait=WaitState(
        kind="reply", node_id=node.id, message_key=message_key, delivered=delivered,
        timeout_seconds=timeout.total_seconds if timeout else None, routes=routes, due_at=due))


def reply_on_input(act: Activation, node: Node, wait: WaitState, inp: InputT) -> Outcome | None:
    if isinstance(inp, MessageIn):
        act.save_result(node, None, {"text": inp.text, "button_id": inp.button_id,
                                     "channel": inp.channel})
        if inp.button_id and inp.button_id in wait.routes:
            return _routed(node, wait.routes[inp.button_id])
        text = inp.text.casefold()
        for match, exit_name in wait.routes.items():
            if match.startswith("kw:") and match[3:] and match[3:] in text:
                return _routed(node, exit_name)
        return Outcome.go("replied")
    if isinstance(inp, TimerFired):
        return Outcome.go("timeout")
    if isinstance(inp, DeliveryStatus) and inp.message_key == wait.message_key:
        if inp.status == "failed":
            # Never delivered: no reply can come and the timeout would never start.
            return Outcome.go("timeout")
        if inp.status in ("delivered", "read") and not wait.delivered:
            if wait.timeout_seconds is None:
                return Outcome(wait=wait.model_copy(update={"delivered": True}))
            due = max(inp.at + timedelta(seconds=wait.timeout_seconds), act.now)
            return Outcome(wait=wait.model_copy(update={
                "delivered": True, "due_at": due,
                "timer_id": wait.timer_id if due == wait.due_at else None}))
    return None


def _routed(node: Node, exit_name: str) -> Outcome:
    # A button/keyword whose exit nobody wired behaves like any other reply.
    return Outcome.go(exit_name if node.exits.get(exit_name) else "replied")


def request_activity(act: Activation, node: Node, event: Any) -> Outcome:
    act.emit(event)
    return Outcome(wait=WaitState(kind="activity", node_id=node.id,
                                  activity_id=event.activity_id))


def activity_result(wait: WaitState, inp: InputT) -> ActivityResult | None:
    if isinstance(inp, ActivityResult) and inp.activity_id == wait.activity_id:
        return inp
    return None
