"""The engine's contract with the runtime: run state, inputs, context and events.

The engine is ``(flow version, run state, input, context) -> (new run state, events)``.
Everything here is plain data (pydantic, JSON round-trippable) so the runtime can store a run's
state and its events in one transaction, and golden tests can compare events as JSON.

Extending: add a new input or event class with its own ``type`` literal and add it to the
union below. Never rename a ``type`` value: stored states and golden files use them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


# --------------------------------------------------------------------------------------------
# What the engine knows about the contact and the world. Built by the runtime per activation.
# --------------------------------------------------------------------------------------------


class ContactSnapshot(_Data):
    """The contact as the engine sees it (read-only; changes are returned as events)."""

    id: int
    phone: str | None = None
    email: str | None = None
    name: str = ""
    first_name: str = ""
    last_name: str = ""
    language: str | None = None
    country: str | None = None
    timezone: str | None = None
    tags: list[str] = Field(default_factory=list)
    fields: dict[str, Any] = Field(default_factory=dict)
    lead_score: int = 0
    # Last inbound message per channel; the 24-hour WhatsApp window is computed from this.
    last_inbound_at: datetime | None = None
    opted_out_marketing: bool = False
    referral: dict[str, Any] | None = None


class WorkspaceSnapshot(_Data):
    id: int
    timezone: str = "America/Argentina/Buenos_Aires"
    country: str = "AR"
    values: dict[str, Any] = Field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------


class MessageIn(_Data):
    """An inbound message from the contact (any channel)."""

    type: Literal["message"] = "message"
    channel: str  # "whatsapp", "sms", "email", "simulator"
    text: str = ""
    message_id: str = ""  # provider id (wamid...) or ours for the simulator
    reply_to: str | None = None  # the message key/provider id this replies to (context.id)
    button_id: str | None = None  # reply-button id, list-row id or template quick-reply payload
    button_title: str | None = None
    media: dict[str, Any] | None = None
    location: dict[str, Any] | None = None
    referral: dict[str, Any] | None = None
    first_in_conversation: bool = False
    received_at: datetime


class EventIn(_Data):
    """A named business event (events API) or an internal one (``tag.added``...)."""

    type: Literal["event"] = "event"
    name: str  # "cart.abandoned", "order.delivered", "opportunity.changed", "tag.added"...
    data: dict[str, Any] = Field(default_factory=dict)
    event_id: str = ""
    occurred_at: datetime


class TimerFired(_Data):
    type: Literal["timer"] = "timer"
    timer_id: str
    fired_at: datetime


class ActivityResult(_Data):
    """The outcome of an effect the run waits for: HTTP request, AI call, handoff closed."""

    type: Literal["activity"] = "activity"
    activity_id: str
    ok: bool
    data: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None


class DeliveryStatus(_Data):
    """A delivery report for a message this run requested (matched by ``message_key``)."""

    type: Literal["delivery"] = "delivery"
    message_key: str
    status: Literal["sent", "delivered", "read", "failed"]
    error_code: str | None = None
    error_reason: str | None = None
    at: datetime


class ManualStart(_Data):
    """Start requested by the API, a schedule, a segment or another flow."""

    type: Literal["manual"] = "manual"
    source: str = "api"  # "api", "schedule", "segment", "flow:<id>", "relative_date"...
    params: dict[str, Any] = Field(default_factory=dict)
    at: datetime
    # The flow to start (API, segment, "go to flow"); None lets triggers decide.
    flow_id: int | None = None


Input = Annotated[
    MessageIn | EventIn | TimerFired | ActivityResult | DeliveryStatus | ManualStart,
    Field(discriminator="type"),
]


# --------------------------------------------------------------------------------------------
# Run state
# --------------------------------------------------------------------------------------------


class RunStatus(StrEnum):
    ACTIVE = "active"  # between steps (never stored: the engine always stops at a wait or end)
    WAITING = "waiting"
    COMPLETED = "completed"
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # stopped by re-entry, stop-on-reply or "remove from flow"


class WaitState(_Data):
    kind: Literal["reply", "timer", "event", "condition", "activity", "window"]
    node_id: str
    timer_id: str | None = None
    due_at: datetime | None = None
    activity_id: str | None = None
    # Wait for reply: which message it is counted from, whether that message is delivered yet,
    # and which button ids / keywords lead to which exits.
    message_key: str | None = None
    delivered: bool = False
    timeout_seconds: int | None = None
    routes: dict[str, str] = Field(default_factory=dict)
    event_name: str | None = None


class RunState(_Data):
    run_id: str
    flow_id: int
    flow_version: int
    contact_id: int
    status: RunStatus = RunStatus.ACTIVE
    node_id: str | None = None
    wait: WaitState | None = None
    # Results of earlier steps, by node id (and by the step's ``save_as`` name when set),
    # available to templates as ``results.<name>``.
    results: dict[str, Any] = Field(default_factory=dict)
    trigger: dict[str, Any] = Field(default_factory=dict)  # the input that started the run
    split_paths: dict[str, str] = Field(default_factory=dict)  # random split -> chosen exit
    last_message_key: str | None = None  # the last message this run sent
    # Every message this run requested (key -> node id) and those reported delivered: routes
    # a late "failed" report to the sending node's failed exit and starts reply timeouts.
    sent_messages: dict[str, str] = Field(default_factory=dict)
    delivered: list[str] = Field(default_factory=list)
    last_inbound: dict[str, Any] | None = None  # the contact's last message during this run
    goal_reached: bool = False
    steps: int = 0  # total nodes executed over the run's life
    started_at: datetime
    updated_at: datetime
    ended_at: datetime | None = None
    end_reason: str | None = None


# --------------------------------------------------------------------------------------------
# Events: the engine's only output
# --------------------------------------------------------------------------------------------


class RunStarted(_Data):
    type: Literal["run_started"] = "run_started"
    flow_id: int
    flow_version: int
    trigger: str


class StepEntered(_Data):
    type: Literal["step_entered"] = "step_entered"
    node_id: str
    node_type: str


class ExitTaken(_Data):
    """Feeds the per-version node/exit counters behind funnels."""

    type: Literal["exit_taken"] = "exit_taken"
    node_id: str
    exit: str
    to_node: str | None


class MessageRequested(_Data):
    """Send a message. ``key`` is the idempotency key the outbox and delivery use."""

    type: Literal["message_requested"] = "message_requested"
    key: str
    node_id: str
    channel: str  # "whatsapp", "email", "sms", "simulator" ("whatsapp" falls to simulator)
    kind: Literal["text", "template", "buttons", "list", "media", "email", "sms"]
    category: Literal["marketing", "utility", "service", "authentication"] = "service"
    payload: dict[str, Any]  # channel-neutral content, see channels.base.OutboundMessage
    fallback_template: dict[str, Any] | None = None  # sent instead when the window is closed
    respect_window: bool = False  # wait for the flow's communication window before sending


class NotificationRequested(_Data):
    """Tell the team: email, Slack incoming webhook or an internal inbox note."""

    type: Literal["notification_requested"] = "notification_requested"
    key: str
    node_id: str
    target: Literal["email", "slack", "inbox"]
    to: str = ""
    subject: str = ""
    text: str


class WaitStarted(_Data):
    type: Literal["wait_started"] = "wait_started"
    node_id: str
    kind: str
    timer_id: str | None = None
    due_at: datetime | None = None


class TimerCancelled(_Data):
    type: Literal["timer_cancelled"] = "timer_cancelled"
    timer_id: str


class ContactUpdated(_Data):
    type: Literal["contact_updated"] = "contact_updated"
    node_id: str
    fields: dict[str, Any] = Field(default_factory=dict)  # custom fields and core attributes
    add_tags: list[str] = Field(default_factory=list)
    remove_tags: list[str] = Field(default_factory=list)
    lead_score_delta: int = 0
    opt_out_marketing: bool | None = None


class OpportunityUpdateRequested(_Data):
    type: Literal["opportunity_update_requested"] = "opportunity_update_requested"
    node_id: str
    opportunity_id: int | None = None  # None: the opportunity of the trigger, or the latest open
    pipeline: str | None = None
    stage: str | None = None
    status: str | None = None
    value: float | None = None


class TicketRequested(_Data):
    type: Literal["ticket_requested"] = "ticket_requested"
    key: str
    node_id: str
    subject: str
    priority: Literal["low", "normal", "high", "urgent"] = "normal"
    team: str | None = None
    description: str = ""


class HandoffRequested(_Data):
    """Pause the bot and hand the conversation to a person; resumes with ActivityResult."""

    type: Literal["handoff_requested"] = "handoff_requested"
    activity_id: str
    node_id: str
    team: str | None = None
    agent: str | None = None
    priority: Literal["low", "normal", "high", "urgent"] = "normal"
    note: str = ""
    include_transcript: bool = False
    context: dict[str, Any] = Field(default_factory=dict)  # run results and trigger data


class HttpRequested(_Data):
    type: Literal["http_requested"] = "http_requested"
    activity_id: str
    node_id: str
    method: str
    url: str
    headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = None
    timeout_seconds: float = 10.0


class AiRequested(_Data):
    type: Literal["ai_requested"] = "ai_requested"
    activity_id: str
    node_id: str
    operation: Literal["classify_intent", "extract", "sentiment", "summarize", "score"]
    text: str
    config: dict[str, Any] = Field(default_factory=dict)


class FlowStartRequested(_Data):
    """Go to another flow: the runtime starts it for this contact."""

    type: Literal["flow_start_requested"] = "flow_start_requested"
    node_id: str
    flow_id: int
    params: dict[str, Any] = Field(default_factory=dict)


class RemoveFromFlowsRequested(_Data):
    type: Literal["remove_from_flows_requested"] = "remove_from_flows_requested"
    node_id: str
    flow_ids: list[int] = Field(default_factory=list)  # empty: every other flow


class GoalReached(_Data):
    type: Literal["goal_reached"] = "goal_reached"
    node_id: str


class ErrorOccurred(_Data):
    """A recoverable problem inside a run; the step follows its failure exit."""

    type: Literal["error"] = "error"
    node_id: str
    code: str
    message: str


class DeliveryRecorded(_Data):
    """A delivery report the run keeps (reply timeouts count from delivery). Carries no work
    for the runtime; it exists so the changed state is saved."""

    type: Literal["delivery_recorded"] = "delivery_recorded"
    message_key: str
    status: str


class RunEnded(_Data):
    type: Literal["run_ended"] = "run_ended"
    status: RunStatus
    reason: str | None = None


Event = Annotated[
    RunStarted | StepEntered | ExitTaken | MessageRequested | NotificationRequested | WaitStarted
    | TimerCancelled | ContactUpdated | OpportunityUpdateRequested | TicketRequested
    | HandoffRequested | HttpRequested | AiRequested | FlowStartRequested
    | RemoveFromFlowsRequested | GoalReached | ErrorOccurred | DeliveryRecorded | RunEnded,
    Field(discriminator="type"),
]


# --------------------------------------------------------------------------------------------
# Context and result
# --------------------------------------------------------------------------------------------


@dataclass
class Context:
    """Everything from outside the engine: time, ids, the contact, the workspace.

    ``new_id`` must be deterministic in tests (e.g. a counter); the runtime passes ids derived
    from the input id so that re-processing the same input yields the same ids.
    """

    now: datetime
    contact: ContactSnapshot
    workspace: WorkspaceSnapshot
    new_id: Callable[[], str]
    # Lookups the engine may need, all pure functions supplied by the host.
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Step:
    """What one activation produced."""

    state: RunState
    events: list[Any]  # list[Event]; Any keeps dataclass typing simple for callers
