"""Who is calling: API keys for machines, users with roles for the web UI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cauce.security import hash_api_key, new_api_key
from cauce.services.errors import Forbidden, Invalid, NotFound, Unauthorized
from cauce.store.models import ApiKey, AuditEntry

ROLES = ("owner", "admin", "editor", "agent", "viewer")
_RANK = {role: len(ROLES) - i for i, role in enumerate(ROLES)}


@dataclass(frozen=True)
class Principal:
    workspace_id: int
    actor: str  # "apikey:3", "user:7", "system"
    role: str

    def require(self, role: str) -> None:
        """Raise :class:`Forbidden` unless this principal's role is at least ``role``."""
        if _RANK[self.role] < _RANK[role]:
            raise Forbidden(f"this action needs the '{role}' role; you are '{self.role}'")


def audit(
    session: Session, principal: Principal, now: datetime, action: str, target: str = "",
    **details: object,
) -> None:
    session.add(
        AuditEntry(
            workspace_id=principal.workspace_id, at=now, actor=principal.actor, action=action,
            target=target, details=details,
        )
    )


@dataclass(frozen=True)
class CreatedKey:
    id: int
    name: str
    key: str  # shown once


def create_api_key(
    session: Session, workspace_id: int, name: str, now: datetime, role: str = "admin",
    actor: Principal | None = None,
) -> CreatedKey:
    name = name.strip()
    if not name:
        raise Invalid("an API key needs a name", field="name")
    if role not in ROLES:
        raise Invalid(f"unknown role '{role}'; use one of {', '.join(ROLES)}", field="role")
    key = new_api_key()
    row = ApiKey(
        workspace_id=workspace_id, name=name, prefix=key[:10], key_hash=hash_api_key(key),
        role=role, created_at=now,
    )
    session.add(row)
    session.flush()
    who = actor or Principal(workspace_id, "system", "owner")
    audit(session, who, now, "apikey.created", f"apikey:{row.id}", name=name, role=role)
    return CreatedKey(id=row.id, name=name, key=key)


def authenticate_api_key(session: Session, key: str, now: datetime) -> Principal:
    row = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_api_key(key)))
    if row is None or row.revoked_at is not None:
        raise Unauthorized("invalid or revoked API key")
    # Writing on every request would serialise reads on SQLite; a minute's precision is enough.
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
        row.last_used_at = now
    return Principal(workspace_id=row.workspace_id, actor=f"apikey:{row.id}", role=row.role)


def list_api_keys(session: Session, workspace_id: int) -> list[ApiKey]:
    return list(
        session.scalars(
            select(ApiKey).where(ApiKey.workspace_id == workspace_id).order_by(ApiKey.id)
        )
    )


def revoke_api_key(session: Session, principal: Principal, key_id: int, now: datetime) -> ApiKey:
    row = session.get(ApiKey, key_id)
    if row is None or row.workspace_id != principal.workspace_id:
        raise NotFound(f"API key {key_id} not found")
    if row.revoked_at is None:
        row.revoked_at = now
        audit(session, principal, now, "apikey.revoked", f"apikey:{row.id}")
    return row
