"""One error shape for every API answer: ``{"error": {"code", "message", "field"}}``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from cauce.logging import get_logger
from cauce.services.errors import ServiceError
from cauce.store.db import DatabaseUnavailable

log = get_logger(__name__)


class ErrorBody(BaseModel):
    code: str
    message: str
    field: str | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "Bad request"},
    401: {"model": ErrorResponse, "description": "Missing or invalid credentials"},
    403: {"model": ErrorResponse, "description": "Not allowed for this role"},
    404: {"model": ErrorResponse, "description": "Not found in this workspace"},
    409: {"model": ErrorResponse, "description": "Conflicts with existing data"},
    422: {"model": ErrorResponse, "description": "Invalid input; `field` names what to fix"},
    429: {"model": ErrorResponse, "description": "Rate limited; see Retry-After"},
}

_HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
    415: "unsupported_media_type", 422: "invalid", 429: "rate_limited", 503: "unavailable",
}


def error_json(
    status: int, code: str, message: str, field: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "field": field}}
    return JSONResponse(body, status_code=status, headers=headers)


def _field_of(loc: tuple[Any, ...]) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or None


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def _service(_: Request, exc: ServiceError) -> JSONResponse:
        return error_json(exc.status_code, exc.code, exc.message, exc.field)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
        field = _field_of(tuple(first.get("loc", ())))
        message = str(first.get("msg", "invalid request")).removeprefix("Value error, ")
        if field:
            message = f"{field}: {message}"
        if len(errors) > 1:
            message += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
        return error_json(422, "invalid", message, field)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "error")
        headers = dict(exc.headers) if exc.headers else None
        return error_json(exc.status_code, code, str(exc.detail), headers=headers)

    @app.exception_handler(DatabaseUnavailable)
    async def _db(_: Request, exc: DatabaseUnavailable) -> JSONResponse:
        log.error("database_unavailable", reason=str(exc))
        return error_json(503, "unavailable", "the database is unavailable; try again shortly")

    # Values the database cannot hold are the caller's input to fix, not a server fault. Each
    # route's transaction has rolled back by the time these run, so nothing is half-written.
    @app.exception_handler(DataError)
    async def _data(_: Request, exc: DataError) -> JSONResponse:
        return error_json(422, "invalid", _describe_data_error(str(exc.orig or exc)))

    @app.exception_handler(OverflowError)
    async def _overflow(_: Request, exc: OverflowError) -> JSONResponse:
        return error_json(422, "invalid", "a number is too large; ids and counts fit in 63 bits")

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled_error", error=type(exc).__name__)
        return error_json(500, "internal", "internal error; the request id is in the logs")


def _describe_data_error(reason: str) -> str:
    lowered = reason.lower()
    if "nul" in lowered and "0x00" in lowered:
        return "text must not contain NUL (\\u0000) characters"
    if "out of range" in lowered:
        return "a number is out of range; ids and counts fit in 63 bits"
    return "a value does not fit its field; check lengths, numbers and dates"
