"""Users of the workspace and their roles (admins manage them; every change is audited)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from cauce.api.deps import CauceDep, PrincipalDep, SessionDep
from cauce.api.errors import ERROR_RESPONSES
from cauce.api.pagination import DEFAULT_LIMIT, CursorQuery, IdPath, LimitQuery, PageOut
from cauce.services import users
from cauce.services.users import Member

router = APIRouter(prefix="/users", tags=["users"], responses=ERROR_RESPONSES)


class UserIn(BaseModel):
    email: str = Field(min_length=3, max_length=254, examples=["agente@example.com"])
    role: str = Field(examples=["agent"], description="owner, admin, editor, agent or viewer")
    name: str = Field(default="", max_length=200, examples=["Lucía"])
    password: str | None = Field(
        default=None, min_length=8, max_length=200,
        description="Needed when the email has no user yet.",
    )


class UserUpdate(BaseModel):
    role: str | None = Field(default=None, examples=["editor"])
    name: str | None = Field(default=None, max_length=200)
    disabled: bool | None = None


class UserPublic(BaseModel):
    id: int
    email: str
    name: str
    role: str
    disabled: bool
    created_at: datetime

    @classmethod
    def of(cls, m: Member) -> UserPublic:
        return cls(
            id=m.user.id, email=m.user.email, name=m.user.name, role=m.membership.role,
            disabled=m.user.disabled_at is not None, created_at=m.user.created_at,
        )


@router.post("", operation_id="create_user", status_code=201)
def create_user(
    body: UserIn, session: SessionDep, principal: PrincipalDep, cauce: CauceDep
) -> UserPublic:
    """Add a user to this workspace (created when the email is new)."""
    member = users.add_member(
        session, principal, body.email, body.role, cauce.clock.now(), name=body.name,
        password=body.password,
    )
    return UserPublic.of(member)


@router.get("", operation_id="list_users")
def list_users(
    session: SessionDep, principal: PrincipalDep, limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> PageOut[UserPublic]:
    page = users.list_members(session, principal.workspace_id, limit=limit, cursor=cursor)
    return PageOut(items=[UserPublic.of(m) for m in page.items], next_cursor=page.next_cursor)


@router.get("/{user_id}", operation_id="get_user")
def get_user(user_id: IdPath, session: SessionDep, principal: PrincipalDep) -> UserPublic:
    return UserPublic.of(users.get_member(session, principal.workspace_id, user_id))


@router.patch("/{user_id}", operation_id="update_user")
def update_user(
    user_id: IdPath, body: UserUpdate, session: SessionDep, principal: PrincipalDep,
    cauce: CauceDep,
) -> UserPublic:
    member = users.update_member(
        session, principal, user_id, cauce.clock.now(), role=body.role, name=body.name,
        disabled=body.disabled,
    )
    return UserPublic.of(member)


@router.delete("/{user_id}", operation_id="remove_user", status_code=204)
def remove_user(
    user_id: IdPath, session: SessionDep, principal: PrincipalDep, cauce: CauceDep
) -> Response:
    """Remove the user from this workspace (the login stays for their other workspaces)."""
    users.remove_member(session, principal, user_id, cauce.clock.now())
    return Response(status_code=204)
