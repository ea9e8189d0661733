"""Named dependencies for routes (``SessionDep``, ``PrincipalDep``...)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from cauce.services.auth import Principal, authenticate_api_key
from cauce.services.container import Cauce
from cauce.services.errors import Unauthorized


async def get_cauce(request: Request) -> Cauce:
    # async: FastAPI runs a plain ``def`` dependency in a worker thread, a thread hop per
    # request (the webhook route's biggest single cost) just to read an attribute.
    cauce: Cauce = request.app.state.cauce
    return cauce


CauceDep = Annotated[Cauce, Depends(get_cauce)]


def get_session(cauce: CauceDep) -> Iterator[Session]:
    """One transaction per request, committed when the route returns without error."""
    with cauce.transaction() as session:
        yield session


# scope="function": commit before the response is sent, so a client that reads the answer
# and immediately asks again sees what it wrote.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]

_bearer = HTTPBearer(auto_error=False, description="API key: `Authorization: Bearer cau_...`")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="API key")


def get_principal(
    request: Request,
    session: SessionDep,
    cauce: CauceDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header_key: Annotated[str | None, Depends(_header)],
) -> Principal:
    key = bearer.credentials if bearer else header_key
    if key:
        return authenticate_api_key(session, key, cauce.clock.now())
    resolver = getattr(request.app.state, "session_principal", None)
    if resolver is not None:
        principal: Principal | None = resolver(request, session)
        if principal is not None:
            return principal
    raise Unauthorized("send an API key as `Authorization: Bearer cau_...` or `X-API-Key`")


PrincipalDep = Annotated[Principal, Depends(get_principal)]
