"""Delivery handlers for the effects flows ask of other areas: AI answers (``cauce.ai``),
tickets and opportunity moves (the CRM services), team notifications (Slack, e-mail, an
audit note), handoffs to the agent inbox (``cauce.services.inbox``) and outbound webhook
events (``webhooks``). :func:`install_effect_handlers` registers them next to the runtime's own.
"""

from __future__ import annotations

from cauce.runtime.delivery import HANDLERS


def install_effect_handlers() -> None:
    """Register every handler of this package where nothing else was registered for its kind
    (idempotent; a deployment or a test may register its own first)."""
    from cauce.runtime.effects.ai import AiHandler
    from cauce.runtime.effects.crm import OpportunityHandler, TicketHandler
    from cauce.runtime.effects.handoff import HandoffHandler
    from cauce.runtime.effects.notify import NotificationHandler
    from cauce.runtime.effects.webhooks import WebhookHandler

    HANDLERS.setdefault("ai_requested", AiHandler())
    HANDLERS.setdefault("ticket_requested", TicketHandler())
    HANDLERS.setdefault("opportunity_update_requested", OpportunityHandler())
    HANDLERS.setdefault("notification_requested", NotificationHandler())
    HANDLERS.setdefault("handoff_requested", HandoffHandler())
    HANDLERS.setdefault("webhook_event", WebhookHandler())
