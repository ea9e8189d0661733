"""Provider webhooks under /webhooks: WhatsApp, Twilio, generic SMS, email bounces.

Each reads the raw body (signatures are over the exact bytes). WhatsApp's, the high-volume one,
is verified and stored raw, and parsed by the runtime after the answer; the others are handed
to ``cauce.services.inbound`` in one transaction off the event loop. Answers are short:
providers only need the status code.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from cauce.api.deps import CauceDep
from cauce.api.errors import error_json
from cauce.api.pagination import IdPath
from cauce.logging import get_logger
from cauce.runtime.webhook_inbox import group_commit
from cauce.services import inbound
from cauce.services.container import Cauce
from cauce.services.inbound import WebhookResult

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
log = get_logger(__name__)

# Bodies up to this size are verified on the event loop (JSON parse + HMAC: microseconds).
_VERIFY_ON_LOOP_BYTES = 64 * 1024
_CODES = {400: "malformed", 401: "unauthorized", 403: "forbidden", 404: "not_found",
          413: "payload_too_large", 422: "invalid", 503: "unavailable"}


def _answer(result: WebhookResult) -> JSONResponse:
    if result.status_code != 200:
        return error_json(result.status_code, _CODES.get(result.status_code, "error"),
                          result.error)
    return JSONResponse({"ok": True, **result.as_dict()})


async def _in_transaction(cauce: Cauce, work: Any) -> WebhookResult:
    def run() -> WebhookResult:
        with cauce.transaction() as session:
            result: WebhookResult = work(session)
            return result

    return await run_in_threadpool(run)


@router.get("/whatsapp", operation_id="whatsapp_verify", response_class=PlainTextResponse,
            responses={403: {"description": "Wrong verify token"}})
def whatsapp_verify(
    cauce: CauceDep,
    mode: Annotated[str | None, Query(alias="hub.mode")] = None,
    token: Annotated[str | None, Query(alias="hub.verify_token")] = None,
    challenge: Annotated[str | None, Query(alias="hub.challenge")] = None,
) -> Response:
    """Meta's subscription handshake: echo ``hub.challenge`` when the verify token is one of
    our WhatsApp numbers'."""
    with cauce.transaction() as session:
        answer = inbound.whatsapp_handshake(session, cauce.secrets, mode, token, challenge)
    if answer is None:
        return PlainTextResponse("verify token mismatch", status_code=403)
    return PlainTextResponse(answer)


@router.post("/whatsapp", operation_id="whatsapp_webhook",
             responses={400: {"description": "Malformed body"},
                        401: {"description": "Missing X-Hub-Signature-256"},
                        403: {"description": "Signature does not match"},
                        503: {"description": "Could not be stored; the provider retries"}})
async def whatsapp_webhook(request: Request, cauce: CauceDep) -> JSONResponse:
    """Inbound messages, statuses and preference changes for every number of the app.

    Verified against the cached app secrets, stored raw (one row, committed together with
    concurrent webhooks) and answered; the runtime parses it into contacts, messages and run
    inputs right after, in arrival order (``cauce.runtime.webhook_inbox``)."""
    raw = await request.body()
    signature = request.headers.get("x-hub-signature-256")
    now = cauce.clock.now()
    numbers = inbound.WhatsAppNumbers.of(cauce)
    refused: WebhookResult | None
    try:
        if len(raw) > _VERIFY_ON_LOOP_BYTES:
            raise inbound.NeedsLoading  # parsing a big body would hold the loop up
        # The usual case: secrets cached, a small body; checked here, no thread hop.
        refused = inbound.verify_whatsapp(numbers, raw, signature, cached_only=True)
    except inbound.NeedsLoading:
        try:
            refused = await run_in_threadpool(inbound.verify_whatsapp, numbers, raw, signature)
        except SQLAlchemyError as exc:
            log.error("whatsapp_webhook_not_verified", error=str(exc)[:300])
            return error_json(503, "unavailable", "the webhook could not be checked; retry later")
    if refused is not None:
        return _answer(refused)
    try:
        outcome = await group_commit(cauce).write_async(
            provider="whatsapp", body=raw, signature=signature or "", received_at=now)
    except SQLAlchemyError as exc:
        log.error("whatsapp_webhook_not_stored", error=str(exc)[:300])
        return error_json(503, "unavailable", "the webhook could not be stored; retry later")
    return JSONResponse({"ok": True, "queued": True, "webhook_id": outcome})


def _public_url(request: Request, cauce: Cauce) -> str:
    """The URL the provider called, as it signed it (behind a proxy: CAUCE_PUBLIC_URL)."""
    base = cauce.settings.public_url.rstrip("/")
    if not base:
        return str(request.url)
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{base}{request.url.path}{query}"


TWIML_EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


@router.post("/sms/twilio", operation_id="twilio_webhook")
async def twilio_webhook(request: Request, cauce: CauceDep) -> Response:
    """Twilio status callbacks and inbound SMS (``X-Twilio-Signature`` verified)."""
    form = {k: str(v) for k, v in (await request.form()).items()}
    signature = request.headers.get("x-twilio-signature")
    url, now = _public_url(request, cauce), cauce.clock.now()
    result = await _in_transaction(
        cauce, lambda s: inbound.handle_twilio(s, cauce.secrets, url, form, signature, now))
    if result.status_code != 200:
        return _answer(result)
    return Response(TWIML_EMPTY, media_type="text/xml")


@router.post("/sms/{channel_id}", operation_id="generic_sms_webhook")
async def generic_sms_webhook(
    channel_id: IdPath, request: Request, cauce: CauceDep,
    token: Annotated[str | None, Query(description="the channel's webhook_token")] = None,
) -> JSONResponse:
    """A generic SMS provider's delivery report or inbound SMS (JSON or form body)."""
    content_type = request.headers.get("content-type", "")
    data: Any
    if "json" in content_type:
        try:
            data = json.loads(await request.body())
        except ValueError:
            return error_json(400, "malformed", "the body is not JSON")
    else:
        data = {k: str(v) for k, v in (await request.form()).items()}
    if not isinstance(data, dict):
        return error_json(400, "malformed", "expected a JSON object or a form")
    now = cauce.clock.now()
    result = await _in_transaction(cauce, lambda s: inbound.handle_generic_sms(
        s, cauce.secrets, channel_id, token, data, now))
    return _answer(result)


@router.post("/email/bounces", operation_id="email_bounces_webhook")
async def email_bounces(request: Request, cauce: CauceDep) -> JSONResponse:
    """Bounces and complaints in a generic JSON format (see docs/channels.md)."""
    auth = request.headers.get("authorization", "")
    token = auth[7:].strip() if auth.lower().startswith("bearer ") else None
    if not token:
        return error_json(401, "unauthorized", "send the channel's bounce_token as "
                          "`Authorization: Bearer <token>`")
    try:
        data = json.loads(await request.body())
    except ValueError:
        return error_json(400, "malformed", "the body is not JSON")
    now = cauce.clock.now()
    result = await _in_transaction(cauce, lambda s: inbound.handle_email_bounces(
        s, cauce.secrets, token, data, now))
    return _answer(result)
