"""Workspaces and the demo workspace that ``make run`` creates."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cauce.security import hash_password
from cauce.services.auth import create_api_key
from cauce.services.errors import Conflict, Invalid
from cauce.store.models import Membership, User, Workspace

DEMO_SLUG = "demo"
DEMO_ADMIN_EMAIL = "admin@demo.cauce.local"
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


def create_workspace(
    session: Session, slug: str, name: str, now: datetime, *,
    timezone: str = "America/Argentina/Buenos_Aires", country: str = "AR", language: str = "es",
) -> Workspace:
    if not _SLUG.match(slug):
        raise Invalid("slug: 2-63 lowercase letters, digits or dashes", field="slug")
    if session.scalar(select(Workspace.id).where(Workspace.slug == slug)) is not None:
        raise Conflict(f"workspace '{slug}' already exists", field="slug")
    ws = Workspace(
        slug=slug, name=name, timezone=timezone, country=country, language=language,
        settings={}, created_at=now,
    )
    session.add(ws)
    session.flush()
    return ws


def create_user(
    session: Session, workspace_id: int, email: str, password: str, role: str, now: datetime,
    name: str = "",
) -> User:
    email = email.strip().lower()
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        if len(password) < 8:
            raise Invalid("password: at least 8 characters", field="password")
        user = User(email=email, name=name, password_hash=hash_password(password), created_at=now)
        session.add(user)
        session.flush()
    session.add(Membership(workspace_id=workspace_id, user_id=user.id, role=role, created_at=now))
    session.flush()
    return user


@dataclass(frozen=True)
class DemoCredentials:
    workspace_id: int
    email: str
    password: str
    api_key: str


def ensure_demo(session: Session, now: datetime) -> DemoCredentials | None:
    """Create the demo workspace, its admin and an API key; ``None`` when it already exists
    (credentials are printed only the first time and never stored in clear)."""
    if session.scalar(select(Workspace.id).where(Workspace.slug == DEMO_SLUG)) is not None:
        return None
    ws = create_workspace(session, DEMO_SLUG, "Demo", now)
    password = secrets.token_urlsafe(12)
    create_user(session, ws.id, DEMO_ADMIN_EMAIL, password, "owner", now, name="Admin")
    key = create_api_key(session, ws.id, "demo admin key", now, role="owner")
    return DemoCredentials(ws.id, DEMO_ADMIN_EMAIL, password, key.key)
