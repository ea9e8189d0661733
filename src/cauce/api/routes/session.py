"""Web UI login: ``POST /session`` sets an HttpOnly, SameSite=Lax cookie; writes made with it
carry ``X-CSRF-Token`` (returned by login and ``GET /session``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Cookie, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from cauce.api.deps import CauceDep, SessionDep
from cauce.api.errors import ERROR_RESPONSES
from cauce.services import users
from cauce.services.auth import Principal
from cauce.services.errors import Unauthorized
from cauce.services.users import CSRF_HEADER, SESSION_COOKIE, SESSION_LIFETIME

router = APIRouter(prefix="/session", tags=["session"], responses=ERROR_RESPONSES)

SessionCookie = Annotated[str | None, Cookie(alias=SESSION_COOKIE, include_in_schema=False)]
_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


class LoginIn(BaseModel):
    email: str = Field(min_length=3, max_length=254, examples=["admin@demo.cauce.local"])
    password: str = Field(min_length=1, max_length=200)
    workspace_id: int | None = Field(default=None, ge=1, le=2**63 - 1)


class WorkspaceIn(BaseModel):
    workspace_id: int = Field(ge=1, le=2**63 - 1)


class PasswordIn(BaseModel):
    current_password: str = Field(min_length=1, max_length=200)
    new_password: str = Field(min_length=8, max_length=200)


class WorkspaceOption(BaseModel):
    id: int
    slug: str
    name: str
    role: str


class MeOut(BaseModel):
    user_id: int
    email: str
    name: str
    workspace_id: int
    role: str
    csrf_token: str = Field(description=f"Send as {CSRF_HEADER} on every write.")
    workspaces: list[WorkspaceOption]


def _present(me: users.Me) -> MeOut:
    return MeOut(
        user_id=me.user.id, email=me.user.email, name=me.user.name,
        workspace_id=me.web_session.workspace_id, role=me.role,
        csrf_token=me.web_session.csrf_token,
        workspaces=[
            WorkspaceOption(id=ws.id, slug=ws.slug, name=ws.name, role=role)
            for ws, role in me.workspaces
        ],
    )


def session_principal(request: Request, session: Session) -> Principal | None:
    """Plugged into ``app.state.session_principal``: the principal of the session cookie."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    return users.principal_for(
        session, token, request.app.state.cauce.clock.now(),
        unsafe_method=request.method in _UNSAFE, csrf=request.headers.get(CSRF_HEADER),
    )


def _require(token: str | None) -> str:
    if not token:
        raise Unauthorized("not logged in")
    return token


@router.post("", operation_id="login")
def login(
    body: LoginIn, session: SessionDep, cauce: CauceDep, request: Request, response: Response
) -> MeOut:
    """Log in with email and password; sets the session cookie."""
    now = cauce.clock.now()
    result = users.login(session, body.email, body.password, now, body.workspace_id)
    response.set_cookie(
        SESSION_COOKIE, result.token, max_age=int(SESSION_LIFETIME.total_seconds()),
        httponly=True, samesite="lax", secure=request.url.scheme == "https", path="/",
    )
    return _present(users.me(session, result.token, now))


@router.get("", operation_id="get_session")
def get_session(session: SessionDep, cauce: CauceDep, token: SessionCookie = None) -> MeOut:
    """Who is logged in, in which workspace, and the workspaces they can switch to."""
    return _present(users.me(session, _require(token), cauce.clock.now()))


@router.delete("", operation_id="logout", status_code=204)
def logout(session: SessionDep, cauce: CauceDep, token: SessionCookie = None) -> Response:
    response = Response(status_code=204)
    if token:
        users.logout(session, token, cauce.clock.now())
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _csrf(request: Request, session: Session, token: str, now: datetime) -> None:
    users.principal_for(
        session, token, now, unsafe_method=True, csrf=request.headers.get(CSRF_HEADER)
    )


@router.post("/workspace", operation_id="switch_workspace")
def switch_workspace(
    body: WorkspaceIn, session: SessionDep, cauce: CauceDep, request: Request,
    token: SessionCookie = None,
) -> MeOut:
    """Work in another workspace the user belongs to."""
    now = cauce.clock.now()
    _csrf(request, session, _require(token), now)
    return _present(users.switch_workspace(session, _require(token), body.workspace_id, now))


@router.post("/password", operation_id="change_password", status_code=204)
def change_password(
    body: PasswordIn, session: SessionDep, cauce: CauceDep, request: Request,
    token: SessionCookie = None,
) -> Response:
    """Change the logged-in user's password; every session of the user ends."""
    now = cauce.clock.now()
    tok = _require(token)
    _csrf(request, session, tok, now)
    me = users.me(session, tok, now)
    users.change_password(session, me.user.id, body.current_password, body.new_password, now)
    return Response(status_code=204)
