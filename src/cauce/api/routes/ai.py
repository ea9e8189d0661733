"""AI: the workspace intent library, a "try it" endpoint for the editor, recorded decisions,
agents' reviews (corrections become examples) and the routing accuracy."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from cauce.ai import AiDecision
from cauce.ai.builtin_intents import BUILTIN_INTENT_NAMES, builtin_intent
from cauce.api.deps import CauceDep, PrincipalDep, SessionDep
from cauce.api.errors import ERROR_RESPONSES
from cauce.api.pagination import DEFAULT_LIMIT, CursorQuery, IdPath, LimitQuery, PageOut
from cauce.services import ai
from cauce.services.ai import IntentIn, RoutingAccuracy
from cauce.store.models import AiDecisionLog, AiIntent

router = APIRouter(prefix="/ai", tags=["ai"], responses=ERROR_RESPONSES)

IntentName = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]


class IntentPublic(BaseModel):
    name: str
    label: str
    description: str
    examples: list[str]
    keywords: list[str]
    source: Literal["builtin", "library", "builtin+library"]
    updated_at: datetime | None = None

    @classmethod
    def of(cls, row: AiIntent) -> IntentPublic:
        return cls(
            name=row.name, label=row.label, description=row.description,
            examples=list(row.examples), keywords=list(row.keywords),
            source="builtin+library" if row.name in BUILTIN_INTENT_NAMES else "library",
            updated_at=row.updated_at,
        )


class TryIn(BaseModel):
    operation: Literal["classify_intent", "extract", "sentiment", "score", "summarize"]
    text: str = Field(max_length=8000, examples=["no puedo acceder a mi cuenta"])
    config: dict[str, Any] = Field(
        default_factory=dict, examples=[{"intents": ["support", "billing"], "threshold": 0.45}]
    )


class DecisionPublic(BaseModel):
    id: int
    run_id: str | None
    flow_id: int | None
    node_id: str
    contact_id: int | None
    operation: str
    input: str
    output: dict[str, Any]
    result: str | None
    confidence: float | None
    model: str
    model_version: str
    method: str
    fallback_reason: str | None
    latency_ms: float
    review_status: str
    corrected_to: str | None
    reviewed_by: int | None
    reviewed_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, row: AiDecisionLog) -> DecisionPublic:
        return cls.model_validate(row, from_attributes=True)


class ReviewIn(BaseModel):
    intent: str = Field(min_length=1, max_length=64, examples=["billing"],
                        description="The intent the message should have gone to.")
    add_example: bool = Field(default=True, description="On a correction, add the message as "
                              "an example of that intent in the library.")


@router.get("/intents", operation_id="list_ai_intents")
def list_intents(session: SessionDep, principal: PrincipalDep) -> list[IntentPublic]:
    """Built-in intents and the workspace library (a library entry may extend a built-in)."""
    library = {row.name: IntentPublic.of(row) for row in ai.list_intents(
        session, principal.workspace_id)}
    out: list[IntentPublic] = []
    for name in BUILTIN_INTENT_NAMES:
        if name in library:
            out.append(library.pop(name))
            continue
        base = builtin_intent(name)
        out.append(IntentPublic(name=name, label=base.label, description="",
                                examples=base.examples, keywords=[], source="builtin"))
    return out + list(library.values())


@router.put("/intents/{name}", operation_id="put_ai_intent")
def put_intent(
    name: IntentName, body: IntentIn, session: SessionDep, principal: PrincipalDep,
    cauce: CauceDep, response: Response,
) -> IntentPublic:
    """Create or replace a library intent (201 when created)."""
    principal.require("editor")
    row, created = ai.put_intent(session, principal.workspace_id, name, body, cauce.clock.now())
    if created:
        response.status_code = 201
    return IntentPublic.of(row)


@router.delete("/intents/{name}", operation_id="delete_ai_intent", status_code=204)
def delete_intent(name: IntentName, session: SessionDep, principal: PrincipalDep) -> None:
    principal.require("editor")
    ai.delete_intent(session, principal.workspace_id, name)


@router.post("/try", operation_id="try_ai")
def try_ai(body: TryIn, session: SessionDep, principal: PrincipalDep) -> AiDecision:
    """Run an AI operation as a flow node would, without recording it."""
    principal.require("editor")
    return ai.try_operation(session, principal.workspace_id, body.operation, body.text,
                            body.config)


@router.get("/decisions", operation_id="list_ai_decisions")
def list_decisions(
    session: SessionDep, principal: PrincipalDep, limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
    operation: Literal["classify_intent", "extract", "sentiment", "score", "summarize"]
    | None = None,
    review_status: Literal["pending", "confirmed", "corrected"] | None = None,
    flow_id: Annotated[int | None, Query(ge=1)] = None,
) -> PageOut[DecisionPublic]:
    page = ai.list_decisions(session, principal.workspace_id, limit=limit, cursor=cursor,
                             operation=operation, review_status=review_status, flow_id=flow_id)
    return PageOut(items=[DecisionPublic.of(r) for r in page.items], next_cursor=page.next_cursor)


@router.post("/decisions/{decision_id}/review", operation_id="review_ai_decision")
def review_decision(
    decision_id: IdPath, body: ReviewIn, session: SessionDep, principal: PrincipalDep,
    cauce: CauceDep,
) -> DecisionPublic:
    """Confirm (same intent) or correct (another intent) an intent decision."""
    principal.require("agent")
    row = ai.review_decision(
        session, principal.workspace_id, decision_id, body.intent, cauce.clock.now(),
        user_id=ai.actor_user_id(principal.actor), add_example=body.add_example,
    )
    return DecisionPublic.of(row)


@router.get("/accuracy", operation_id="get_ai_routing_accuracy")
def routing_accuracy(
    session: SessionDep, principal: PrincipalDep,
    flow_id: Annotated[int | None, Query(ge=1)] = None,
) -> RoutingAccuracy:
    """The dashboard's "% de ruteo correcto": confirmed / reviewed intent decisions."""
    return ai.routing_accuracy(session, principal.workspace_id, flow_id)
