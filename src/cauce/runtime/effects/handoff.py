"""``handoff_requested`` rows: a ``handoff`` step hands the contact to people.

In the claim transaction (:meth:`HandoffHandler.route`) the conversation is opened (or the
contact's open one reused) and assigned, and a ticket is linked or opened for escalations. The
bot has been paused for the contact since the processor committed the step with this row
(:func:`cauce.services.inbox.paused_contacts`); the messages that arrived meanwhile open the
conversation's transcript. The AI summary of the attached transcript is
computed in :meth:`HandoffHandler.call`, outside any transaction (the offline model or an LLM
may take a while), and stored in :meth:`HandoffHandler.settle`.

The run keeps waiting: the activity result that resumes it is submitted when an agent closes
the conversation (:func:`cauce.services.inbox.close`). A re-delivered row finds its handoff
already applied and only recomputes the summary.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from cauce.engine.types import ActivityResult, HandoffRequested, Input
from cauce.logging import get_logger
from cauce.runtime.delivery import Attempt, Outcome, Route
from cauce.runtime.handlers import flow_now
from cauce.services import ai as ai_uses
from cauce.services import inbox
from cauce.services.errors import ServiceError
from cauce.store.models import RuntimeRun, Workspace

log = get_logger(__name__)


@dataclass
class SummaryOutcome(Outcome):
    """A done handoff with the summary to store (settled in the record transaction)."""

    summary: str = ""


class HandoffHandler:
    def route(self, session: Session, item: Attempt) -> Route | Outcome:
        payload = dict(item.payload)
        # Stamped by the processor with the step (see cauce.services.inbox.unseen_from).
        start = payload.pop("transcript_from_id", None)
        event = HandoffRequested.model_validate(payload)
        run = session.get(RuntimeRun, item.run_id) if item.run_id else None
        wait = (run.state.get("wait") or {}) if run is not None else {}
        if run is None or wait.get("activity_id") != event.activity_id:
            # The run moved on or ended (removed from flows...): nobody to hand back to.
            return Outcome("done", code="not_waiting")
        try:
            with session.begin_nested():
                handoff = inbox.apply_handoff(
                    session, item.workspace_id, item.contact_id, item.run_id, event,
                    flow_now(session), flow_id=run.flow_id,
                    transcript_from_id=start if isinstance(start, int) else None)
        except ServiceError as exc:
            return Outcome("failed", error=str(exc), code="handoff_refused")
        workspace = session.get(Workspace, item.workspace_id)
        language = "en" if workspace is not None and workspace.language == "en" else "es"
        conversation = handoff.conversation
        return Route(provider="inbox", data={
            "turns": handoff.turns, "language": language,
            "conversation_id": conversation.id,
        })

    def call(self, item: Attempt, route: Route) -> Outcome:
        turns = route.data["turns"]
        conversation = f"conversation:{route.data['conversation_id']}"
        if not any(t["role"] == "contact" for t in turns):
            return SummaryOutcome("done", provider_id=conversation)
        try:
            result, _ = ai_uses.ai_service().summarize(turns, route.data["language"])
        except Exception:  # the summary helps the agent; the handoff must not wait on it
            log.exception("handoff_summary_failed", key=item.key)
            return SummaryOutcome("done", provider_id=conversation, code="no_summary")
        return SummaryOutcome("done", provider_id=conversation, summary=result.text)

    def settle(self, session: Session, item: Attempt, outcome: Outcome, now: datetime) -> None:
        if isinstance(outcome, SummaryOutcome) and outcome.summary:
            activity = str(item.payload.get("activity_id") or "")
            inbox.attach_summary(session, item.workspace_id, activity, outcome.summary, now)

    def failed_inputs(self, item: Attempt, outcome: Outcome, now: datetime) -> list[Input]:
        activity = str(item.payload.get("activity_id") or item.key)
        return [ActivityResult(activity_id=activity, ok=False,
                               error=outcome.error or "the handoff failed")]
