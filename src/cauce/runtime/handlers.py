"""How each kind of outbox row is delivered: messages through channel adapters, HTTP request
steps through the SSRF-guarded client. The handlers for other areas' effects (AI, tickets,
opportunities, team notifications) live in :mod:`cauce.runtime.effects`; anything else
registers with :func:`cauce.runtime.delivery.register_handler`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from cauce.channels.base import ErrorAction, OutboundMessage, SendResult
from cauce.engine.types import ActivityResult, DeliveryStatus, Input
from cauce.runtime import http_step
from cauce.runtime.bulk import id_in
from cauce.runtime.delivery import HANDLERS, Attempt, Outcome, Route
from cauce.services import channels as channel_service
from cauce.services.messages import (
    OutboundRecord,
    RulesQuery,
    check_rules_many,
    record_outbound_many,
)
from cauce.store.models import Contact, Workspace

# session.info key: the routes MessageHandler.prepare worked out for a claimed batch.
_PREPARED = "cauce.message_routes"


def flow_now(session: Session) -> datetime:
    """The flows' time for this delivery batch (virtual in simulator mode); see Delivery."""
    value = session.info.get("flow_now")
    return value if isinstance(value, datetime) else datetime.now(UTC)


@dataclass(frozen=True)
class ResolvedChannel:
    """A workspace's channel as delivery needs it."""

    kind: str  # adapter kind in cauce.channels.registry
    config: dict[str, Any]
    sender: str  # the sending identity the rate limit applies to (phone number id...)
    rate_per_second: float | None = None
    channel_id: int | None = None  # set when chosen per contact (the contact rules' window)


# (session, workspace id, channel name from the flow) -> the configured channel, or None.
ChannelDirectory = Callable[[Session, int, str], ResolvedChannel | None]

# A flow's channel name -> the adapter kinds that can carry it, in preference order.
_CHANNEL_KINDS = {"whatsapp": "whatsapp", "sms": "sms_twilio", "email": "email",
                  "simulator": "simulator", "slack": "slack", "webhook": "webhook"}


def default_directory(session: Session, workspace_id: int, channel: str) -> ResolvedChannel | None:
    """The workspace's configured channel (:func:`cauce.services.channels.resolve_for_delivery`);
    WhatsApp without a configured number goes to the simulator, so flows work before any
    credential exists."""
    found = channel_service.resolve_for_delivery(session, workspace_id, channel)
    if found is not None:
        kind, config, sender, rate = found
        return ResolvedChannel(kind=kind, config=config, sender=sender, rate_per_second=rate)
    if channel in ("whatsapp", "simulator"):
        return ResolvedChannel(kind="simulator", config={}, sender=f"sim:{workspace_id}")
    return None


def _reply_channels(session: Session, items: list[Attempt]
                    ) -> dict[tuple[int, int, str], ResolvedChannel]:
    found = channel_service.resolve_replies_for_delivery(session, {
        (i.workspace_id, i.contact_id, str(i.payload.get("channel") or i.channel))
        for i in items})
    return {key: ResolvedChannel(kind=kind, config=config, sender=sender,
                                 rate_per_second=rate, channel_id=channel_id)
            for key, (kind, config, sender, rate, channel_id) in found.items()}


class MessageHandler:
    """``message_requested`` rows: one message through the workspace's channel."""

    def __init__(self, directory: ChannelDirectory = default_directory) -> None:
        self.directory = directory

    def prepare(self, session: Session, items: list[Attempt]) -> None:
        """Route a whole claimed batch at once: each (workspace, channel) is resolved once,
        the contacts come in one query and the contact rules judge every row with a few set
        queries (:func:`check_rules_many`). :meth:`route` then only looks its row up."""
        from cauce.channels.registry import get_adapter

        prepared: dict[int, Route | Outcome] = session.info.setdefault(_PREPARED, {})
        channels: dict[tuple[int, str], ResolvedChannel | None] = {}
        for item in items:
            name = str(item.payload.get("channel") or item.channel)
            if (item.workspace_id, name) not in channels:
                channels[(item.workspace_id, name)] = self.directory(
                    session, item.workspace_id, name)
        # With several numbers of a kind, a contact's messages leave from the one they wrote
        # to (the default directory only: a custom one decides alone).
        replies = _reply_channels(session, items) if self.directory is default_directory \
            else {}
        contacts = {c.id: c for c in session.execute(
            select(Contact.id, Contact.phone, Contact.email)
            .where(id_in(session, Contact.id, {i.contact_id for i in items})))}
        pending: list[tuple[Attempt, ResolvedChannel, str]] = []
        queries: list[RulesQuery] = []
        for item in items:
            name = str(item.payload.get("channel") or item.channel)
            resolved = replies.get((item.workspace_id, item.contact_id, name)) \
                or channels[(item.workspace_id, name)]
            if resolved is None:
                prepared[item.id] = Outcome(
                    "failed", code="no_channel",
                    error=f"the workspace has no '{name}' channel configured")
                continue
            contact = contacts.get(item.contact_id)
            if contact is None:
                prepared[item.id] = Outcome("failed", code="no_contact",
                                            error="the contact no longer exists")
                continue
            to = _address(resolved.kind, contact)
            if not to:
                prepared[item.id] = Outcome(
                    "failed", code="no_address",
                    error=f"the contact has no address for {resolved.kind}")
                continue
            pending.append((item, resolved, to))
            queries.append(RulesQuery(
                workspace_id=item.workspace_id, contact_id=item.contact_id,
                channel_kind=resolved.kind, channel_id=resolved.channel_id,
                kind=str(item.payload.get("kind", "text")),
                category=str(item.payload.get("category", "service")),
                has_fallback=bool(item.payload.get("fallback_template")),
                respect_window=bool(item.payload.get("respect_window"))))
        now = flow_now(session)
        decisions = check_rules_many(session, queries, now=now)
        for (item, resolved, to), query, decision in zip(pending, queries, decisions,
                                                          strict=True):
            kind, payload = query.kind, dict(item.payload.get("payload") or {})
            fallback = item.payload.get("fallback_template")
            if decision.action == "fallback_template" and isinstance(fallback, dict):
                kind, payload = "template", dict(fallback)
            elif decision.action == "defer" and decision.not_before is not None:
                wait = (decision.not_before - now).total_seconds()
                prepared[item.id] = Outcome("defer", error=decision.reason, code=decision.code,
                                            retry_after=max(wait, 1.0))
                continue
            elif decision.action in ("fail", "suppress", "defer"):
                prepared[item.id] = Outcome("failed", error=decision.reason,
                                            code=decision.code or decision.action)
                continue
            adapter = get_adapter(resolved.kind)
            rate = resolved.rate_per_second or float(getattr(adapter, "rate_per_second", 0)
                                                     or 0)
            message = OutboundMessage(
                key=item.key, channel=resolved.kind, kind=kind, to=to, payload=payload,
                category=query.category,
            )
            sender = f"{resolved.kind}:{resolved.sender}"
            prepared[item.id] = Route(
                provider=sender, bucket=sender if rate else None, rate=rate,
                burst=max(1.0, rate / 10), status_callbacks=resolved.kind == "whatsapp",
                data={"message": message, "config": resolved.config, "kind": resolved.kind},
            )

    def route(self, session: Session, item: Attempt) -> Route | Outcome:
        prepared: dict[int, Route | Outcome] = session.info.setdefault(_PREPARED, {})
        if item.id not in prepared:
            self.prepare(session, [item])
        return prepared.pop(item.id)

    def call(self, item: Attempt, route: Route) -> Outcome:
        from cauce.channels.registry import get_adapter

        adapter = get_adapter(route.data["kind"])
        return _outcome(adapter.send(route.data["message"], route.data["config"]))

    def call_async(self, item: Attempt, route: Route) -> Coroutine[Any, Any, Outcome] | None:
        """The send on delivery's send loop, for adapters that can (``send_async``)."""
        from cauce.channels.registry import get_adapter

        send_async = getattr(get_adapter(route.data["kind"]), "send_async", None)
        if send_async is None:
            return None
        return _send_async(send_async, route)

    def settle(self, session: Session, item: Attempt, outcome: Outcome, now: datetime) -> None:
        """Keep the conversation log (``messages``) in step: the inbox and the simulator's
        chat panel read it."""
        self.settle_many(session, [(item, outcome)], now)

    def settle_many(self, session: Session, items: list[tuple[Attempt, Outcome]],
                    now: datetime) -> None:
        """:meth:`settle` for a whole delivery batch: one multi-row write, stamped on the flows'
        clock (the virtual one in simulator mode), which the contact rules count on."""
        record_outbound_many(session, [
            OutboundRecord(
                workspace_id=item.workspace_id, contact_id=item.contact_id,
                channel_kind=item.channel or "whatsapp", key=item.key,
                kind=str(item.payload.get("kind", "text")),
                content=dict(item.payload.get("payload") or {}),
                category=str(item.payload.get("category", "service")),
                provider_id=outcome.provider_id,
                status="sent" if outcome.status == "done" else "failed",
                run_id=item.run_id, node_id=str(item.payload.get("node_id") or "") or None,
                error_code=outcome.code if outcome.status == "failed" else None,
                error_reason=outcome.error if outcome.status == "failed" else None,
            )
            for item, outcome in items if outcome.status in ("done", "failed")
        ], now=flow_now(session))  # the flows' clock: the one caps and windows count on

    def failed_inputs(self, item: Attempt, outcome: Outcome, now: datetime) -> list[Input]:
        return [DeliveryStatus(message_key=item.key, status="failed", error_code=outcome.code,
                               error_reason=outcome.error, at=now)]


async def _send_async(send: Callable[..., Awaitable[SendResult]], route: Route) -> Outcome:
    return _outcome(await send(route.data["message"], route.data["config"]))


def _outcome(result: SendResult) -> Outcome:
    if result.status == "sent":
        return Outcome("done", provider_id=result.provider_id)
    error = result.error
    if error is None:
        return Outcome("retry", error="the adapter failed without a reason", code="unknown")
    if error.action is ErrorAction.RETRY:
        return Outcome("retry", error=error.reason, code=error.code,
                       retry_after=error.retry_after)
    return Outcome("failed", error=error.reason, code=error.code)


def _address(kind: str, contact: Any) -> str:
    if kind == "email":
        return contact.email or ""
    phone = contact.phone or ""
    return phone.lstrip("+") if kind in ("whatsapp", "simulator") else phone


class HttpHandler:
    """``http_requested`` rows: the flow's HTTP request step; the answer resumes the run."""

    def __init__(self, resolve: http_step.Resolver = http_step.system_resolver) -> None:
        self.resolve = resolve

    def route(self, session: Session, item: Attempt) -> Route | Outcome:
        ws = session.get(Workspace, item.workspace_id)
        settings = ws.settings if ws is not None and isinstance(ws.settings, dict) else {}
        allowed = settings.get("http_allowed_hosts") or []
        # One circuit per host: a shop's failing API does not hold back other hosts' steps.
        host = urlsplit(str(item.payload.get("url", ""))).netloc.lower() or "-"
        return Route(provider=f"http:{host}", data={"allowed": [str(h) for h in allowed]})

    def call(self, item: Attempt, route: Route) -> Outcome:
        p = item.payload
        result = http_step.perform(
            str(p.get("method", "GET")), str(p.get("url", "")),
            {str(k): str(v) for k, v in (p.get("headers") or {}).items()},
            p.get("body"), float(p.get("timeout_seconds") or 10.0), route.data["allowed"],
            resolve=self.resolve,
        )
        activity = str(p.get("activity_id") or item.key)
        if result.ok:
            return Outcome("done", inputs=[ActivityResult(activity_id=activity, ok=True,
                                                          data=result.data)])
        if result.retryable:
            return Outcome("retry", error=result.error, code=f"http_{result.status or 'error'}",
                           retry_after=result.retry_after)
        # A refusal or a 4xx is final: the run takes its failure exit with the reason.
        return Outcome("failed", error=result.error,
                       code=f"http_{result.status}" if result.status else "refused",
                       inputs=[])

    def failed_inputs(self, item: Attempt, outcome: Outcome, now: datetime) -> list[Input]:
        activity = str(item.payload.get("activity_id") or item.key)
        return [ActivityResult(activity_id=activity, ok=False, error=outcome.error)]


def install_default_handlers() -> None:
    """Register the runtime's own handlers where nothing else was registered for the kind
    (idempotent; a deployment or a test may register its own first)."""
    HANDLERS.setdefault("message_requested", MessageHandler())
    HANDLERS.setdefault("http_requested", HttpHandler())
    # Other areas' effects (AI, tickets, opportunities, team notifications).
    from cauce.runtime.effects import install_effect_handlers

    install_effect_handlers()
