"""``notification_requested`` rows: a ``notify_team`` node tells the team (not the contact)
through the workspace's Slack channel, its e-mail channel, or a note in the audit log.

``target: inbox`` becomes a note on the contact's open inbox conversation when it has one
(the agent handling it sees it in the transcript), and otherwise an audit entry
(``action = "flow.team_note"``, target ``contact:<id>``); either is written in the claim
transaction, once per outbox key.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cauce.channels.base import ErrorAction, OutboundMessage, SendResult
from cauce.engine.types import Input, NotificationRequested
from cauce.runtime.delivery import Attempt, Outcome, Route
from cauce.runtime.handlers import ChannelDirectory, default_directory, flow_now
from cauce.store.models import AuditEntry, Conversation, InboxNote, RuntimeRun

NOTE_ACTION = "flow.team_note"


class NotificationHandler:
    def __init__(self, directory: ChannelDirectory = default_directory) -> None:
        self.directory = directory

    def route(self, session: Session, item: Attempt) -> Route | Outcome:
        event = NotificationRequested.model_validate(item.payload)
        if event.target == "inbox":
            return self._note(session, item, event)
        if event.target == "slack":
            # ``to`` may name one of the workspace's Slack channels; otherwise the first one.
            resolved = (self.directory(session, item.workspace_id, event.to) if event.to
                        else None)
            if resolved is None or resolved.kind != "slack":
                resolved = self.directory(session, item.workspace_id, "slack")
            if resolved is None or resolved.kind != "slack":
                return Outcome("failed", code="no_channel",
                               error="the workspace has no Slack channel configured")
            recipients = [event.to]
            payload = {"text": f"*{event.subject}*\n{event.text}" if event.subject
                       else event.text}
        else:
            resolved = self.directory(session, item.workspace_id, "email")
            if resolved is None or resolved.kind != "email":
                return Outcome("failed", code="no_channel",
                               error="the workspace has no e-mail channel configured")
            recipients = [a.strip() for a in event.to.replace(";", ",").split(",") if a.strip()]
            if not recipients:
                return Outcome("failed", code="no_address",
                               error="to: the notification has no e-mail address")
            payload = {"subject": event.subject or "Cauce", "text": event.text}
        from cauce.channels.registry import get_adapter

        # The same per-sender bucket as messages: a Slack hook allows about one post a second.
        rate = resolved.rate_per_second or float(
            getattr(get_adapter(resolved.kind), "rate_per_second", 0) or 0)
        sender = f"{resolved.kind}:{resolved.sender}"
        return Route(provider=sender, bucket=sender if rate else None, rate=rate,
                     burst=max(1.0, rate / 10), data={
            "kind": resolved.kind, "config": resolved.config, "recipients": recipients,
            "payload": payload,
        })

    def _note(self, session: Session, item: Attempt, event: NotificationRequested) -> Outcome:
        run = session.get(RuntimeRun, item.run_id) if item.run_id else None
        actor = f"flow:{run.flow_id}" if run is not None else "flow"
        conversation = session.scalars(select(Conversation).where(
            Conversation.workspace_id == item.workspace_id,
            Conversation.contact_id == item.contact_id, Conversation.status == "open")
            .order_by(Conversation.id)).first()
        if conversation is not None:
            if session.scalar(select(InboxNote.id).where(
                    InboxNote.conversation_id == conversation.id,
                    InboxNote.message_key == item.key)) is not None:
                return Outcome("done", code="duplicate")
            text = f"{event.subject}: {event.text}" if event.subject else event.text
            session.add(InboxNote(
                workspace_id=item.workspace_id, conversation_id=conversation.id, kind="note",
                actor=actor, text=text, message_key=item.key, at=flow_now(session)))
            return Outcome("done", provider_id=f"conversation:{conversation.id}")
        target = f"contact:{item.contact_id}"
        seen = session.scalars(select(AuditEntry.details).where(
            AuditEntry.workspace_id == item.workspace_id, AuditEntry.action == NOTE_ACTION,
            AuditEntry.target == target)).all()
        if any(isinstance(d, dict) and d.get("key") == item.key for d in seen):
            return Outcome("done", code="duplicate")
        session.add(AuditEntry(
            workspace_id=item.workspace_id, at=flow_now(session), actor=actor,
            action=NOTE_ACTION, target=target, note=event.text,
            details={"key": item.key, "run_id": item.run_id, "node_id": event.node_id,
                     "subject": event.subject, "to": event.to},
        ))
        return Outcome("done")

    def call(self, item: Attempt, route: Route) -> Outcome:
        from cauce.channels.registry import get_adapter

        adapter = get_adapter(route.data["kind"])
        recipients: list[str] = route.data["recipients"]
        for n, to in enumerate(recipients):
            key = item.key if len(recipients) == 1 else f"{item.key}.{n}"
            result: SendResult = adapter.send(OutboundMessage(
                key=key, channel=route.data["kind"], kind="email" if route.data["kind"] ==
                "email" else "text", to=to, payload=dict(route.data["payload"]),
                category="utility"), route.data["config"])
            error = result.error
            if result.status == "sent":
                continue
            if error is None:
                return Outcome("retry", error="the adapter failed without a reason",
                               code="unknown")
            if error.action is ErrorAction.RETRY:
                return Outcome("retry", error=error.reason, code=error.code,
                               retry_after=error.retry_after)
            return Outcome("failed", error=error.reason, code=error.code)
        return Outcome("done")

    def failed_inputs(self, item: Attempt, outcome: Outcome, now: datetime) -> list[Input]:
        # The node went on ("next") when it asked; the dead letter carries the reason.
        return []
