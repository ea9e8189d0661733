"""Outbound webhook subscriptions: which events go to which URL, signed with a secret."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from cauce.api.deps import CauceDep, PrincipalDep, SessionDep
from cauce.api.errors import ERROR_RESPONSES
from cauce.api.pagination import DEFAULT_LIMIT, CursorQuery, IdPath, LimitQuery, PageOut
from cauce.services import webhook_subscriptions as subs
from cauce.services.webhook_subscriptions import SubscriptionIn
from cauce.store.models import WebhookSubscription

router = APIRouter(
    prefix="/webhook-subscriptions", tags=["integrations"], responses=ERROR_RESPONSES
)


class SubscriptionPublic(BaseModel):
    id: int
    url: str
    events: list[str]
    description: str
    active: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: WebhookSubscription) -> SubscriptionPublic:
        return cls.model_validate(row, from_attributes=True)


class SubscriptionCreated(SubscriptionPublic):
    secret: str = Field(
        description="The signing secret. Shown only in this answer (and on rotation). "
        f"Deliveries carry `{subs.TIMESTAMP_HEADER}` and `{subs.SIGNATURE_HEADER}: "
        "sha256=<hex HMAC-SHA256(secret, timestamp + '.' + raw body)>`."
    )


@router.post("", operation_id="create_webhook_subscription", status_code=201)
def create_webhook_subscription(
    body: SubscriptionIn, session: SessionDep, principal: PrincipalDep, cauce: CauceDep,
) -> SubscriptionCreated:
    """Subscribe a URL to events: contact.created, contact.updated, opportunity.changed,
    ticket.opened, flow.goal_reached, message.failed. The answer holds the signing secret,
    shown once."""
    principal.require("admin")
    created = subs.create(session, cauce.secrets, principal, body, cauce.clock.now())
    return SubscriptionCreated(**SubscriptionPublic.of(created.subscription).model_dump(),
                               secret=created.secret)


@router.get("", operation_id="list_webhook_subscriptions")
def list_webhook_subscriptions(
    session: SessionDep, principal: PrincipalDep, limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> PageOut[SubscriptionPublic]:
    page = subs.list_subscriptions(session, principal.workspace_id, limit=limit, cursor=cursor)
    return PageOut(items=[SubscriptionPublic.of(r) for r in page.items],
                   next_cursor=page.next_cursor)


@router.get("/{subscription_id}", operation_id="get_webhook_subscription")
def get_webhook_subscription(
    subscription_id: IdPath, session: SessionDep, principal: PrincipalDep,
) -> SubscriptionPublic:
    return SubscriptionPublic.of(subs.get(session, principal.workspace_id, subscription_id))


@router.patch("/{subscription_id}", operation_id="update_webhook_subscription")
def update_webhook_subscription(
    subscription_id: IdPath, body: SubscriptionIn, session: SessionDep,
    principal: PrincipalDep, cauce: CauceDep,
) -> SubscriptionPublic:
    """Change the URL, the events, the description, or pause it (`active: false`)."""
    principal.require("admin")
    row = subs.update(session, principal, subscription_id, body, cauce.clock.now())
    return SubscriptionPublic.of(row)


@router.post("/{subscription_id}/rotate-secret", operation_id="rotate_webhook_secret")
def rotate_webhook_secret(
    subscription_id: IdPath, session: SessionDep, principal: PrincipalDep, cauce: CauceDep,
) -> SubscriptionCreated:
    """A new signing secret, shown once; the old one stops working at once."""
    principal.require("admin")
    created = subs.rotate_secret(session, cauce.secrets, principal, subscription_id,
                                 cauce.clock.now())
    return SubscriptionCreated(**SubscriptionPublic.of(created.subscription).model_dump(),
                               secret=created.secret)


@router.delete("/{subscription_id}", operation_id="delete_webhook_subscription",
               status_code=204)
def delete_webhook_subscription(
    subscription_id: IdPath, session: SessionDep, principal: PrincipalDep, cauce: CauceDep,
) -> Response:
    principal.require("admin")
    subs.delete(session, principal, subscription_id, cauce.clock.now())
    return Response(status_code=204)
