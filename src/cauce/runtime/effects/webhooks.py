"""Delivering outbound webhook events (``webhook_event`` outbox rows, queued by
:func:`cauce.services.webhook_subscriptions.publish`).

Each attempt POSTs the row's fixed body through the SSRF-guarded HTTP client of the HTTP
request steps (public addresses only unless the workspace allows the host; the connection goes
to the checked address), signed with a timestamp taken at the attempt. 5xx, 429 and network
errors are retried with the outbox's backoff and end as dead letters after the last attempt;
302/303 count as delivered (see ``ACCEPTED_REDIRECTS``);
any other answer is the receiver refusing the event (a bad signature, an unknown
route) and is a dead letter at once, visible with its reason in the runs API.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from cauce.engine.types import Input
from cauce.runtime import http_step
from cauce.runtime.delivery import Attempt, Outcome, Route
from cauce.security import SecretBox
from cauce.services import webhook_subscriptions as subs
from cauce.store.models import WebhookSubscription, Workspace

TIMEOUT_SECONDS = 10.0
# A 302/303 answer to a POST is "processed; see the result elsewhere" (Post/Redirect/Get).
# Google Apps Script web apps always answer a POST that way after running doPost, so these
# count as delivered; redirects are never followed (the target was not SSRF-checked).
ACCEPTED_REDIRECTS = (302, 303)


class WebhookHandler:
    def __init__(self, resolve: http_step.Resolver = http_step.system_resolver) -> None:
        self.resolve = resolve

    def route(self, session: Session, item: Attempt) -> Route | Outcome:
        sub_id = item.payload.get("subscription_id")
        row = session.get(WebhookSubscription, sub_id) if isinstance(sub_id, int) else None
        if row is None or row.workspace_id != item.workspace_id:
            return Outcome("failed", code="subscription_deleted",
                           error="the webhook subscription was deleted")
        if not row.active:
            return Outcome("failed", code="subscription_inactive",
                           error="the webhook subscription is paused")
        box = session.info.get("secrets")
        if not isinstance(box, SecretBox):
            return Outcome("retry", code="no_secrets", error="no secret box in this session")
        try:
            secret = box.decrypt(row.secret_encrypted)
        except ValueError as exc:
            return Outcome("failed", code="secret_unreadable", error=str(exc))
        ws = session.get(Workspace, item.workspace_id)
        settings = ws.settings if ws is not None and isinstance(ws.settings, dict) else {}
        allowed = [str(h) for h in settings.get("http_allowed_hosts") or []]
        return Route(provider=f"webhook:{row.id}",
                     data={"url": row.url, "secret": secret, "allowed": allowed})

    def call(self, item: Attempt, route: Route) -> Outcome:
        body = str(item.payload.get("body") or "").encode()
        timestamp = int(datetime.now(UTC).timestamp())
        headers = {
            "Content-Type": "application/json",
            subs.EVENT_HEADER: str(item.payload.get("event", "")),
            subs.DELIVERY_HEADER: item.key,
            subs.TIMESTAMP_HEADER: str(timestamp),
            subs.SIGNATURE_HEADER: subs.signature(route.data["secret"], timestamp, body),
        }
        result = http_step.perform(
            "POST", route.data["url"], headers, body.decode(), TIMEOUT_SECONDS,
            route.data["allowed"], resolve=self.resolve,
        )
        if result.ok or result.status in ACCEPTED_REDIRECTS:
            return Outcome("done")
        if result.retryable:
            return Outcome("retry", error=result.error, code=f"http_{result.status or 'error'}",
                           retry_after=result.retry_after)
        return Outcome("failed", error=result.error,
                       code=f"http_{result.status}" if result.status else "refused")

    def failed_inputs(self, item: Attempt, outcome: Outcome, now: datetime) -> list[Input]:
        return []  # no run waits for a webhook delivery
