"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from cauce import __version__
from cauce.api.deps import CauceDep
from cauce.store import migrate
from cauce.store.db import DatabaseUnavailable, check_connection

router = APIRouter(tags=["health"])


@router.get("/healthz", operation_id="healthz")
def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok", "version": __version__}


@router.get("/readyz", operation_id="readyz", responses={503: {"description": "Not ready"}})
def readyz(cauce: CauceDep) -> JSONResponse:
    """The database answers and its schema is at the code's migration head."""
    try:
        check_connection(cauce.engine)
    except DatabaseUnavailable as exc:
        return JSONResponse({"status": "unavailable", "database": str(exc)}, status_code=503)
    current, head = migrate.current_revision(cauce.engine), migrate.head_revision()
    if current != head:
        return JSONResponse(
            {"status": "migrations_pending", "database": "ok", "schema": current, "head": head},
            status_code=503,
        )
    return JSONResponse({"status": "ready", "database": "ok", "schema": current})
