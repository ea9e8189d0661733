"""The virtual clock of simulations and tests (``CAUCE_CLOCK=virtual``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, Field

from cauce.api.deps import CauceDep, _bearer, _header, get_principal
from cauce.api.errors import ERROR_RESPONSES
from cauce.services import runs as service
from cauce.services.auth import Principal
from cauce.services.runs import ClockState

router = APIRouter(prefix="/sim/clock", tags=["simulation"], responses=ERROR_RESPONSES)


class ClockAdvance(BaseModel):
    seconds: float = Field(ge=0, le=10 * 365 * 86400, examples=[604800],
                           description="How far to move virtual time forward.")


class ClockPublic(BaseModel):
    mode: str = Field(description="'virtual' or 'real'")
    now: datetime
    timers_fired: int = 0


def _principal(
    request: Request, cauce: CauceDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header_key: Annotated[str | None, Depends(_header)],
) -> Principal:
    # Authenticate in a short transaction of its own: advancing the clock runs many
    # transactions, and on SQLite a request-long one would hold the only write lock.
    with cauce.transaction() as session:
        return get_principal(request, session, cauce, bearer, header_key)


PrincipalOutsideTxDep = Annotated[Principal, Depends(_principal)]


def _public(state: ClockState) -> ClockPublic:
    return ClockPublic(mode=state.mode, now=state.now, timers_fired=state.timers_fired)


@router.get("", operation_id="get_clock")
def get_clock(cauce: CauceDep, principal: PrincipalOutsideTxDep) -> ClockPublic:
    return _public(service.clock_state(cauce))


@router.post("/advance", operation_id="advance_clock")
def advance_clock(
    body: ClockAdvance, cauce: CauceDep, principal: PrincipalOutsideTxDep
) -> ClockPublic:
    """Fire every timer due within the jump, in order, and process what they cause.
    Refused with 409 when Cauce runs on the real clock."""
    principal.require("editor")
    return _public(service.advance_clock(cauce, body.seconds))
