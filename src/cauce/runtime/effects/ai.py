"""``ai_requested`` rows: ``cauce.ai`` answers the AI node and the answer resumes the run.

The lookups (intent library, contact, transcript) happen in the claim transaction; the model
runs in :meth:`AiHandler.call`, outside any transaction; the decision is recorded in the
transaction that records the outcome (:meth:`AiHandler.settle`), together with the
``ActivityResult`` the run receives.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from cauce.ai import AiDecision
from cauce.engine.types import ActivityResult, AiRequested, Input
from cauce.runtime.delivery import Attempt, Outcome, Route
from cauce.runtime.handlers import flow_now
from cauce.services import ai as ai_uses
from cauce.services.messages import transcript
from cauce.store.models import Contact, RuntimeRun, Workspace

# How much of the conversation a summary reads (newest messages win).
TRANSCRIPT_LIMIT = 100


class AiHandler:
    """Answers ``AiRequested`` with the process-wide :func:`cauce.services.ai.ai_service`."""

    def route(self, session: Session, item: Attempt) -> Route | Outcome:
        event = AiRequested.model_validate(item.payload)
        run = session.get(RuntimeRun, item.run_id) if item.run_id else None
        wait = (run.state.get("wait") or {}) if run is not None else {}
        if run is None or wait.get("activity_id") != event.activity_id:
            # A re-delivered request whose run already moved on (or ended): answering again
            # would only record a second decision nobody waits for.
            return Outcome("done", code="not_waiting")
        contact = session.get(Contact, item.contact_id)
        workspace = session.get(Workspace, item.workspace_id)
        defaults: dict[str, Any] = {"today": flow_now(session).date().isoformat()}
        region = (contact.country if contact is not None else None) or (
            workspace.country if workspace is not None else None)
        if region:
            defaults["default_region"] = region
        config = dict(event.config)
        if event.operation == "summarize" and config.get("scope", "conversation") == \
                "conversation" and "transcript" not in config:
            config["transcript"] = [
                {"role": "contact" if m.direction == "in" else "agent", "text": m.text}
                for m in transcript(session, item.workspace_id, item.contact_id,
                                    limit=TRANSCRIPT_LIMIT) if m.text
            ]
        return Route(provider="ai", data={
            "event": event.model_copy(update={"config": config}),
            "library": ai_uses.intent_library(session, item.workspace_id),
            "defaults": defaults,
        })

    def call(self, item: Attempt, route: Route) -> Outcome:
        result = ai_uses.ai_service().answer(route.data["event"], library=route.data["library"],
                                             defaults=route.data["defaults"])
        # A configuration the AI cannot use is still an answer: the node takes its failure
        # path with the reason, so the row is done either way.
        return Outcome("done", inputs=[result], code=None if result.ok else "ai_config",
                       error=result.error)

    def settle(self, session: Session, item: Attempt, outcome: Outcome, now: datetime) -> None:
        """Record the decision (the dashboard's routing accuracy and agents' reviews)."""
        run = session.get(RuntimeRun, item.run_id) if item.run_id else None
        for result in outcome.inputs:
            if not isinstance(result, ActivityResult) or not result.ok or \
                    "decision" not in result.data:
                continue
            ai_uses.record_decision(
                session, item.workspace_id, AiDecision.from_activity_data(result.data), now,
                run_id=item.run_id, flow_id=run.flow_id if run is not None else None,
                node_id=str(item.payload.get("node_id") or ""), contact_id=item.contact_id,
            )

    def failed_inputs(self, item: Attempt, outcome: Outcome, now: datetime) -> list[Input]:
        activity = str(item.payload.get("activity_id") or item.key)
        return [ActivityResult(activity_id=activity, ok=False,
                               error=outcome.error or "the AI call failed")]
