"""Users of a workspace (roles), and web UI sessions: login, logout, workspace switch.

Sessions are server-side: the cookie carries 256 random bits, the database keeps only their
SHA-256, so logout really ends a session and a leaked database cannot be replayed. Writes made
with a session cookie must echo the session's CSRF token in ``X-CSRF-Token`` (the cookie is
also ``SameSite=Lax``), so another site cannot make a logged-in browser change anything.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cauce.security import constant_time_equal, hash_password, verify_password
from cauce.services.auth import ROLES, Principal, audit
from cauce.services.contacts import normalize_email
from cauce.services.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from cauce.services.pagination import Page, paginate
from cauce.store.models import AuditEntry, Membership, User, WebSession, Workspace

SESSION_COOKIE = "cauce_session"
CSRF_HEADER = "X-CSRF-Token"
SESSION_LIFETIME = timedelta(days=14)
MIN_PASSWORD = 8
_RANK = {role: len(ROLES) - i for i, role in enumerate(ROLES)}


@dataclass(frozen=True)
class Member:
    user: User
    membership: Membership


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise Invalid(f"role: one of {', '.join(ROLES)}", field="role")


def _grantable(principal: Principal, role: str) -> None:
    # Nobody hands out more power than they hold (an admin cannot make an owner).
    if _RANK[role] > _RANK[principal.role]:
        raise Forbidden(f"a '{principal.role}' cannot grant the '{role}' role")


def add_member(
    session: Session, principal: Principal, email: str, role: str, now: datetime, *,
    name: str = "", password: str | None = None,
) -> Member:
    """Add a user to the caller's workspace, creating the user when the email is new."""
    principal.require("admin")
    _check_role(role)
    _grantable(principal, role)
    email = normalize_email(email)
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        if not password or len(password) < MIN_PASSWORD:
            raise Invalid(f"password: at least {MIN_PASSWORD} characters", field="password")
        user = User(email=email, name=name.strip(), password_hash=hash_password(password),
                    created_at=now)
        session.add(user)
        session.flush()
    elif session.scalar(
        select(Membership.id).where(
            Membership.workspace_id == principal.workspace_id, Membership.user_id == user.id
        )
    ) is not None:
        raise Conflict(f"{email} is already a member of this workspace", field="email")
    membership = Membership(
        workspace_id=principal.workspace_id, user_id=user.id, role=role, created_at=now
    )
    session.add(membership)
    session.flush()
    audit(session, principal, now, "user.added", f"user:{user.id}", email=email, role=role)
    return Member(user, membership)


def get_member(session: Session, workspace_id: int, user_id: int) -> Member:
    row = session.execute(
        select(User, Membership)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.workspace_id == workspace_id, User.id == user_id)
    ).first()
    if row is None:
        raise NotFound(f"user {user_id} not found")
    return Member(row[0], row[1])


def list_members(
    session: Session, workspace_id: int, *, limit: int | None, cursor: str | None
) -> Page[Member]:
    stmt = select(Membership).where(Membership.workspace_id == workspace_id)
    page = paginate(session, stmt, Membership.id, limit, cursor)
    users = {
        u.id: u
        for u in session.scalars(
            select(User).where(User.id.in_([m.user_id for m in page.items]))
        )
    }
    return Page([Member(users[m.user_id], m) for m in page.items], page.next_cursor)


def _owners(session: Session, workspace_id: int) -> int:
    return int(
        session.scalar(
            select(func.count()).select_from(Membership).where(
                Membership.workspace_id == workspace_id, Membership.role == "owner"
            )
        )
        or 0
    )


def update_member(
    session: Session, principal: Principal, user_id: int, now: datetime, *,
    role: str | None = None, name: str | None = None, disabled: bool | None = None,
) -> Member:
    principal.require("admin")
    member = get_member(session, principal.workspace_id, user_id)
    if role is not None and role != member.membership.role:
        _check_role(role)
        _grantable(principal, role)
        _grantable(principal, member.membership.role)
        if member.membership.role == "owner" and _owners(session, principal.workspace_id) == 1:
            raise Conflict("the last owner cannot be demoted; make someone else owner first",
                           field="role")
        audit(session, principal, now, "user.role_changed", f"user:{user_id}",
              before=member.membership.role, after=role)
        member.membership.role = role
    if name is not None:
        member.user.name = name.strip()
    if disabled is not None:
        _grantable(principal, member.membership.role)
        if disabled and member.user.disabled_at is None:
            member.user.disabled_at = now
            audit(session, principal, now, "user.disabled", f"user:{user_id}")
        elif not disabled and member.user.disabled_at is not None:
            member.user.disabled_at = None
            audit(session, principal, now, "user.enabled", f"user:{user_id}")
    return member


def remove_member(session: Session, principal: Principal, user_id: int, now: datetime) -> None:
    principal.require("admin")
    member = get_member(session, principal.workspace_id, user_id)
    _grantable(principal, member.membership.role)
    if member.membership.role == "owner" and _owners(session, principal.workspace_id) == 1:
        raise Conflict("the last owner cannot be removed")
    session.delete(member.membership)
    audit(session, principal, now, "user.removed", f"user:{user_id}", email=member.user.email)


def change_password(
    session: Session, user_id: int, current: str, new: str, now: datetime
) -> None:
    user = session.get(User, user_id)
    if user is None or not verify_password(user.password_hash, current):
        raise Invalid("current_password: does not match", field="current_password")
    if len(new) < MIN_PASSWORD:
        raise Invalid(f"new_password: at least {MIN_PASSWORD} characters", field="new_password")
    user.password_hash = hash_password(new)
    # A password belongs to the person, not to one workspace: every workspace they are a
    # member of records the change (never the password itself).
    for workspace_id in session.scalars(
            select(Membership.workspace_id).where(Membership.user_id == user_id)):
        session.add(AuditEntry(workspace_id=workspace_id, at=now, actor=f"user:{user_id}",
                               action="user.password_changed", target=f"user:{user_id}",
                               details={}))
    for s in session.scalars(
        select(WebSession).where(WebSession.user_id == user_id, WebSession.revoked_at.is_(None))
    ):
        s.revoked_at = now


# --------------------------------------------------------------------------------------------
# Web sessions
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Login:
    token: str  # the cookie value, shown once
    session: WebSession


def login(
    session: Session, email: str, password: str, now: datetime, workspace_id: int | None = None
) -> Login:
    wrong = Unauthorized("wrong email or password")
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        verify_password(_DUMMY_HASH, password)  # same cost, so timing does not reveal emails
        raise wrong
    if not verify_password(user.password_hash, password):
        raise wrong
    if user.disabled_at is not None:
        raise Unauthorized("this user is disabled")
    memberships = list(
        session.scalars(
            select(Membership).where(Membership.user_id == user.id).order_by(Membership.id)
        )
    )
    if not memberships:
        raise Forbidden("this user belongs to no workspace")
    chosen = memberships[0]
    if workspace_id is not None:
        match = [m for m in memberships if m.workspace_id == workspace_id]
        if not match:
            raise Forbidden(f"you are not a member of workspace {workspace_id}")
        chosen = match[0]
    token = secrets.token_urlsafe(32)
    row = WebSession(
        token_hash=_hash(token), csrf_token=secrets.token_urlsafe(24), user_id=user.id,
        workspace_id=chosen.workspace_id, created_at=now, expires_at=now + SESSION_LIFETIME,
    )
    session.add(row)
    session.flush()
    return Login(token, row)


_DUMMY_HASH = hash_password("not-a-real-password-0")


def session_for_token(session: Session, token: str, now: datetime) -> WebSession | None:
    row = session.scalar(select(WebSession).where(WebSession.token_hash == _hash(token)))
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    user = session.get(User, row.user_id)
    if user is None or user.disabled_at is not None:
        return None
    return row


def principal_for(
    session: Session, token: str, now: datetime, *, unsafe_method: bool, csrf: str | None
) -> Principal | None:
    """The principal behind a session cookie; writes must carry the CSRF token."""
    row = session_for_token(session, token, now)
    if row is None:
        return None
    if unsafe_method and not (csrf and constant_time_equal(csrf, row.csrf_token)):
        raise Forbidden(f"writes with a session cookie need the {CSRF_HEADER} header "
                        "(GET /api/v1/session returns it)")
    role = session.scalar(
        select(Membership.role).where(
            Membership.workspace_id == row.workspace_id, Membership.user_id == row.user_id
        )
    )
    if role is None:  # removed from the workspace since logging in
        return None
    return Principal(workspace_id=row.workspace_id, actor=f"user:{row.user_id}", role=role)


def logout(session: Session, token: str, now: datetime) -> None:
    row = session.scalar(select(WebSession).where(WebSession.token_hash == _hash(token)))
    if row is not None and row.revoked_at is None:
        row.revoked_at = now


@dataclass(frozen=True)
class Me:
    user: User
    web_session: WebSession
    role: str
    workspaces: list[tuple[Workspace, str]]


def me(session: Session, token: str, now: datetime) -> Me:
    row = session_for_token(session, token, now)
    if row is None:
        raise Unauthorized("not logged in")
    user = session.get(User, row.user_id)
    assert user is not None
    pairs = session.execute(
        select(Workspace, Membership.role)
        .join(Membership, Membership.workspace_id == Workspace.id)
        .where(Membership.user_id == user.id)
        .order_by(Workspace.id)
    ).all()
    workspaces = [(ws, role) for ws, role in pairs]
    role = next((r for ws, r in workspaces if ws.id == row.workspace_id), None)
    if role is None:
        raise Unauthorized("you are no longer a member of this workspace; log in again")
    return Me(user, row, role, workspaces)


def switch_workspace(session: Session, token: str, workspace_id: int, now: datetime) -> Me:
    row = session_for_token(session, token, now)
    if row is None:
        raise Unauthorized("not logged in")
    member = session.scalar(
        select(Membership.id).where(
            Membership.workspace_id == workspace_id, Membership.user_id == row.user_id
        )
    )
    if member is None:
        raise NotFound(f"workspace {workspace_id} not found")
    row.workspace_id = workspace_id
    session.flush()
    return me(session, token, now)


def list_audit(
    session: Session, principal: Principal, *, limit: int | None, cursor: str | None,
    action: str | None = None, actor: str | None = None,
) -> Page[AuditEntry]:
    """The workspace's audit log, oldest first; ``action`` ending in ``.`` is a prefix."""
    principal.require("admin")
    stmt = select(AuditEntry).where(AuditEntry.workspace_id == principal.workspace_id)
    if action:
        stmt = stmt.where(
            AuditEntry.action.startswith(action) if action.endswith(".")
            else AuditEntry.action == action
        )
    if actor:
        stmt = stmt.where(AuditEntry.actor == actor)
    return paginate(session, stmt, AuditEntry.id, limit, cursor)
