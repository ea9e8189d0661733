"""``ticket_requested`` and ``opportunity_update_requested`` rows, applied through the CRM
services (:mod:`cauce.services.tickets`, :mod:`cauce.services.opportunities`).

Both are local database writes, so they happen in :meth:`route`, inside the claim
transaction, and settle the row there: the effect and the row's ``done`` commit together, so
a crash can neither lose the ticket nor create it twice. The ticket's idempotency key (the
event's key) also guards a row put back by hand (dead-letter retry).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cauce.engine.types import Input, OpportunityUpdateRequested, TicketRequested
from cauce.runtime.delivery import Attempt, Outcome, Route
from cauce.runtime.handlers import flow_now
from cauce.services import opportunities, tickets
from cauce.services.errors import ServiceError
from cauce.services.messages import transcript
from cauce.store.models import Opportunity, Pipeline, RuntimeRun

# How many of the contact's latest messages a ticket carries.
TICKET_TRANSCRIPT = 50


def _run_context(session: Session, item: Attempt) -> dict[str, Any]:
    run = session.get(RuntimeRun, item.run_id) if item.run_id else None
    context: dict[str, Any] = {"run_id": item.run_id,
                               "node_id": str(item.payload.get("node_id") or "")}
    if run is not None:
        context["flow_id"] = run.flow_id
        context["flow_version"] = run.flow_version
        results = run.state.get("results")
        if results:
            context["results"] = results
    return context


class TicketHandler:
    """Creates the ticket a ``create_ticket`` node asked for, with the conversation so far."""

    def route(self, session: Session, item: Attempt) -> Route | Outcome:
        event = TicketRequested.model_validate(item.payload)
        now = flow_now(session)
        entries = [
            tickets.TranscriptEntry(direction="in" if m.direction == "in" else "out",
                                    text=m.text[:8000], at=m.created_at,
                                    channel=m.channel_kind[:32])
            for m in transcript(session, item.workspace_id, item.contact_id,
                                limit=TICKET_TRANSCRIPT) if m.text
        ]
        data = tickets.TicketIn(
            subject=event.subject[:300], description=event.description[:20000],
            contact_id=item.contact_id, priority=event.priority, team=event.team,
            transcript=entries, context=_run_context(session, item), key=event.key[:128],
        )
        try:
            with session.begin_nested():
                ticket, _ = tickets.create_ticket(session, item.workspace_id, data, now,
                                                  source="flow")
        except ServiceError as exc:
            return Outcome("failed", error=str(exc), code="ticket_refused")
        return Outcome("done", provider_id=f"ticket:{ticket.id}")

    def call(self, item: Attempt, route: Route) -> Outcome:  # pragma: no cover - route settles
        return Outcome("done")

    def failed_inputs(self, item: Attempt, outcome: Outcome, now: datetime) -> list[Input]:
        # The node already went on ("next"); the dead letter carries the reason.
        return []


class OpportunityHandler:
    """Moves the contact's opportunity (stage, status, value) as an ``update_opportunity``
    node asked; the CRM service records the change and emits ``opportunity.changed``."""

    def route(self, session: Session, item: Attempt) -> Route | Outcome:
        event = OpportunityUpdateRequested.model_validate(item.payload)
        now = flow_now(session)
        row = self._target(session, item, event)
        if row is None:
            where = f" in pipeline '{event.pipeline}'" if event.pipeline else ""
            return Outcome("failed", code="no_opportunity",
                           error=f"the contact has no open opportunity{where} to update")
        fields: dict[str, Any] = {}
        if event.pipeline is not None:
            fields["pipeline"] = event.pipeline
        if event.stage is not None:
            fields["stage"] = event.stage
        if event.status is not None:
            fields["status"] = event.status
        if event.value is not None:
            fields["value"] = event.value
        try:
            with session.begin_nested():
                opportunities.update_opportunity(
                    session, item.workspace_id, row.id, opportunities.OpportunityIn(**fields),
                    now, actor=f"run:{item.run_id}"[:64] if item.run_id else "flow")
        except (ServiceError, ValueError) as exc:
            return Outcome("failed", error=str(exc), code="opportunity_refused")
        return Outcome("done", provider_id=f"opportunity:{row.id}")

    def _target(self, session: Session, item: Attempt,
                event: OpportunityUpdateRequested) -> Opportunity | None:
        if event.opportunity_id is not None:
            row = session.get(Opportunity, event.opportunity_id)
            if row is not None and row.workspace_id == item.workspace_id \
                    and row.contact_id == item.contact_id:
                return row
            return None
        query = select(Opportunity).where(Opportunity.workspace_id == item.workspace_id,
                                          Opportunity.contact_id == item.contact_id,
                                          Opportunity.status == "open")
        if event.pipeline is not None:
            ref = event.pipeline
            pipe = Pipeline.id == int(ref) if ref.isdigit() else Pipeline.name == ref
            query = query.join(Pipeline, Pipeline.id == Opportunity.pipeline_id).where(pipe)
        found = session.scalars(query.order_by(Opportunity.updated_at.desc(),
                                               Opportunity.id.desc())).first()
        if found is None and event.pipeline is not None:
            # Moving to another pipeline: the latest open deal, wherever it is now.
            found = session.scalars(
                select(Opportunity).where(Opportunity.workspace_id == item.workspace_id,
                                          Opportunity.contact_id == item.contact_id,
                                          Opportunity.status == "open")
                .order_by(Opportunity.updated_at.desc(), Opportunity.id.desc())).first()
        return found

    def call(self, item: Attempt, route: Route) -> Outcome:  # pragma: no cover - route settles
        return Outcome("done")

    def failed_inputs(self, item: Attempt, outcome: Outcome, now: datetime) -> list[Input]:
        return []
