"""AI use cases: the workspace intent library, recording AI decisions, agents' reviews
(corrections become new examples) and the routing accuracy the dashboard shows.

The AI itself lives in :mod:`cauce.ai` (no database); this module is where it meets storage.
"""

from __future__ import annotations

import re
import threading
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cauce.ai import AiConfigError, AiDecision, AiService, Intent
from cauce.ai.builtin_intents import BUILTIN_INTENT_NAMES
from cauce.ai.intents import normalized_key
from cauce.services.errors import Invalid, NotFound
from cauce.services.pagination import Page, paginate
from cauce.store.models import AiDecisionLog, AiIntent

MAX_EXAMPLES_PER_INTENT = 500
INTENT_NAME = r"^[A-Za-z0-9_\-]+$"
REVIEW_STATUSES = ("pending", "confirmed", "corrected")
OPERATIONS = ("classify_intent", "extract", "sentiment", "score", "summarize")

_service_lock = threading.Lock()
_service: AiService | None = None


def ai_service() -> AiService:
    """The process-wide AI service, configured from ``CAUCE_AI_*`` (offline when unset)."""
    global _service
    if _service is None:
        with _service_lock:
            if _service is None:
                _service = AiService.from_env()
    return _service


class IntentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str = Field(default="", max_length=200, examples=["Venta mayorista"])
    description: str = Field(default="", max_length=500)
    examples: list[str] = Field(
        default_factory=list, max_length=MAX_EXAMPLES_PER_INTENT,
        examples=[["venden por mayor?", "precio mayorista", "soy revendedor"]],
    )
    keywords: list[str] = Field(default_factory=list, max_length=100)

    @field_validator("examples", "keywords")
    @classmethod
    def _clean(cls, values: list[str]) -> list[str]:
        seen: set[str] = set()
        cleaned: list[str] = []
        for value in values:
            text = value.strip()
            if len(text) > 500:
                raise ValueError("each entry must be at most 500 characters")
            key = normalized_key(text)
            if key and key not in seen:
                seen.add(key)
                cleaned.append(text)
        return cleaned


def _check_name(name: str) -> str:
    if not re.fullmatch(INTENT_NAME, name) or len(name) > 64:
        raise Invalid("name: letters, digits, '_' or '-', at most 64 characters", field="name")
    return name


def list_intents(session: Session, workspace_id: int) -> list[AiIntent]:
    """The workspace's library, by name."""
    return list(session.scalars(
        select(AiIntent).where(AiIntent.workspace_id == workspace_id).order_by(AiIntent.name)
    ))


def get_intent(session: Session, workspace_id: int, name: str) -> AiIntent:
    row = session.scalar(
        select(AiIntent).where(AiIntent.workspace_id == workspace_id, AiIntent.name == name)
    )
    if row is None:
        raise NotFound(f"intent '{name}' not found")
    return row


def put_intent(
    session: Session, workspace_id: int, name: str, data: IntentIn, now: datetime
) -> tuple[AiIntent, bool]:
    """Create or replace a library intent; returns ``(row, created)``.

    A custom intent (not a built-in name) needs examples, keywords or a description; a built-in
    name may be stored with only extra examples, which then extend the built-in ones.
    """
    _check_name(name)
    if name not in BUILTIN_INTENT_NAMES and not (data.examples or data.keywords or
                                                  data.description):
        raise Invalid("examples: a custom intent needs a few examples", field="examples")
    row = session.scalar(
        select(AiIntent).where(AiIntent.workspace_id == workspace_id, AiIntent.name == name)
    )
    created = row is None
    if row is None:
        row = AiIntent(workspace_id=workspace_id, name=name, created_at=now)
        session.add(row)
    row.label = data.label
    row.description = data.description
    row.examples = list(data.examples)
    row.keywords = list(data.keywords)
    row.updated_at = now
    session.flush()
    return row, created


def delete_intent(session: Session, workspace_id: int, name: str) -> None:
    session.delete(get_intent(session, workspace_id, name))


def intent_library(session: Session, workspace_id: int) -> dict[str, Intent]:
    """The library as :class:`cauce.ai.Intent` objects, for ``AiService.run(..., library)``."""
    return {
        row.name: Intent(name=row.name, label=row.label, description=row.description,
                         examples=list(row.examples), keywords=list(row.keywords))
        for row in list_intents(session, workspace_id)
    }


def record_decision(
    session: Session,
    workspace_id: int,
    decision: AiDecision,
    now: datetime,
    *,
    run_id: str | None = None,
    flow_id: int | None = None,
    node_id: str = "",
    contact_id: int | None = None,
) -> AiDecisionLog:
    """Store one AI decision of a run (the runtime calls this when it answers AiRequested)."""
    output = decision.output
    result: Any = None
    if decision.operation == "classify_intent":
        result = output.get("intent") or "unsure"
    elif decision.operation == "sentiment":
        result = output.get("label")
    elif decision.operation == "score":
        result = output.get("temperature")
    row = AiDecisionLog(
        workspace_id=workspace_id, run_id=run_id, flow_id=flow_id, node_id=node_id,
        contact_id=contact_id, operation=decision.operation, input=decision.input,
        output=output, result=str(result) if result is not None else None,
        confidence=decision.confidence, model=decision.model[:100],
        model_version=decision.model_version[:50], method=decision.method,
        fallback_reason=(decision.fallback_reason or None) and decision.fallback_reason[:200],
        latency_ms=decision.latency_ms, review_status="pending", created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def get_decision(session: Session, workspace_id: int, decision_id: int) -> AiDecisionLog:
    row = session.get(AiDecisionLog, decision_id)
    if row is None or row.workspace_id != workspace_id:
        raise NotFound(f"AI decision {decision_id} not found")
    return row


def list_decisions(
    session: Session, workspace_id: int, *, limit: int | None, cursor: str | None,
    operation: str | None = None, review_status: str | None = None, flow_id: int | None = None,
) -> Page[AiDecisionLog]:
    stmt = select(AiDecisionLog).where(AiDecisionLog.workspace_id == workspace_id)
    if operation is not None:
        stmt = stmt.where(AiDecisionLog.operation == operation)
    if review_status is not None:
        if review_status not in REVIEW_STATUSES:
            raise Invalid(f"review_status: one of {', '.join(REVIEW_STATUSES)}",
                          field="review_status")
        stmt = stmt.where(AiDecisionLog.review_status == review_status)
    if flow_id is not None:
        stmt = stmt.where(AiDecisionLog.flow_id == flow_id)
    return paginate(session, stmt, AiDecisionLog.id, limit, cursor)


def review_decision(
    session: Session,
    workspace_id: int,
    decision_id: int,
    correct_intent: str,
    now: datetime,
    *,
    user_id: int | None = None,
    add_example: bool = True,
) -> AiDecisionLog:
    """An agent confirms or corrects an intent decision from the inbox.

    Naming the intent the decision chose confirms it; another name corrects it, and (with
    ``add_example``) the message becomes an example of that intent in the library.
    """
    row = get_decision(session, workspace_id, decision_id)
    if row.operation != "classify_intent":
        raise Invalid("only intent decisions can be reviewed", field="decision_id")
    _check_name(correct_intent)
    if correct_intent == "unsure":
        raise Invalid("intent: name the intent the message should have gone to",
                      field="intent")
    chosen = row.result if row.result != "unsure" else None
    row.review_status = "confirmed" if correct_intent == chosen else "corrected"
    row.corrected_to = None if correct_intent == chosen else correct_intent
    row.reviewed_by = user_id
    row.reviewed_at = now
    if row.review_status == "corrected" and add_example:
        _add_example(session, workspace_id, correct_intent, row.input, now)
    return row


def _add_example(session: Session, workspace_id: int, name: str, text: str, now: datetime) -> None:
    row = session.scalar(
        select(AiIntent).where(AiIntent.workspace_id == workspace_id, AiIntent.name == name)
    )
    if row is None:
        row = AiIntent(workspace_id=workspace_id, name=name, examples=[], keywords=[],
                       created_at=now, updated_at=now)
        session.add(row)
    existing = {normalized_key(e) for e in row.examples}
    if normalized_key(text) and normalized_key(text) not in existing:
        if len(row.examples) >= MAX_EXAMPLES_PER_INTENT:
            raise Invalid(f"intent '{name}' already has {MAX_EXAMPLES_PER_INTENT} examples",
                          field="intent")
        row.examples = [*row.examples, text.strip()]  # a new list, so the JSON column updates
        row.updated_at = now
    session.flush()


class RoutingAccuracy(BaseModel):
    decisions: int
    reviewed: int
    confirmed: int
    corrected: int
    accuracy: float | None  # confirmed / reviewed; None before any review
    unsure: int


def routing_accuracy(
    session: Session, workspace_id: int, flow_id: int | None = None
) -> RoutingAccuracy:
    """The dashboard's "% de ruteo correcto": of the reviewed intent decisions, how many were
    right (confirmed by the agent rather than corrected)."""
    stmt = (
        select(AiDecisionLog.review_status, AiDecisionLog.result, func.count())
        .where(AiDecisionLog.workspace_id == workspace_id,
               AiDecisionLog.operation == "classify_intent")
        .group_by(AiDecisionLog.review_status, AiDecisionLog.result)
    )
    if flow_id is not None:
        stmt = stmt.where(AiDecisionLog.flow_id == flow_id)
    counts = {"pending": 0, "confirmed": 0, "corrected": 0}
    unsure = 0
    for status, result, count in session.execute(stmt):
        counts[status] = counts.get(status, 0) + count
        if result == "unsure":
            unsure += count
    reviewed = counts["confirmed"] + counts["corrected"]
    return RoutingAccuracy(
        decisions=sum(counts.values()), reviewed=reviewed, confirmed=counts["confirmed"],
        corrected=counts["corrected"],
        accuracy=round(counts["confirmed"] / reviewed, 4) if reviewed else None, unsure=unsure,
    )


def try_operation(
    session: Session, workspace_id: int, operation: str, text: str, config: dict[str, Any],
    service: AiService | None = None,
) -> AiDecision:
    """Run one AI operation as a flow node would (the editor's "try it"), with the library."""
    if operation not in OPERATIONS:
        raise Invalid(f"operation: one of {', '.join(OPERATIONS)}", field="operation")
    try:
        return (service or ai_service()).run(
            operation,  # type: ignore[arg-type]  # checked against OPERATIONS above
            text, config, intent_library(session, workspace_id),
        )
    except AiConfigError as exc:
        raise Invalid(str(exc), field=f"config.{exc.field}") from None


def actor_user_id(actor: str) -> int | None:
    """The user id of a ``user:7`` actor (API keys review as no particular user)."""
    kind, _, ident = actor.partition(":")
    return int(ident) if kind == "user" and ident.isdigit() else None
