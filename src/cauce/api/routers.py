"""The explicit table of API routers. Add a line when you add a router module."""

from __future__ import annotations

from fastapi import APIRouter

from cauce.api.routes import (
    ai,
    apikeys,
    audit,
    channels,
    contact_rules,
    contacts,
    dashboard,
    events,
    flow_templates,
    flows,
    health,
    inbox,
    meta,
    metrics,
    opportunities,
    pipelines,
    runs,
    segments,
    session,
    sim_clock,
    simulator,
    templates,
    tickets,
    users,
    webhook_subscriptions,
    webhooks,
    workspace,
)

# Mounted at the root (probes, webhooks).
ROOT_ROUTERS: list[APIRouter] = [health.router, metrics.router, webhooks.router]

# Mounted under /api/v1.
API_V1_ROUTERS: list[APIRouter] = [
    workspace.router, contact_rules.router, apikeys.router, meta.router,
    contacts.router, segments.router, pipelines.router, opportunities.router, tickets.router,
    events.router, users.router, session.router, audit.router,
    runs.router, sim_clock.router, flows.router, flow_templates.router,
    channels.router, templates.router, simulator.router,
    ai.router, inbox.teams, inbox.router, webhook_subscriptions.router, dashboard.router,
]
