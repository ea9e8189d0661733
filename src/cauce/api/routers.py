"""The explicit table of API routers. Add a line when you add a router module."""

from __future__ import annotations

from fastapi import APIRouter

from cauce.api.routes import apikeys, health, meta, metrics, runs, sim_clock, workspace

# Mounted at the root (probes, webhooks).
ROOT_ROUTERS: list[APIRouter] = [health.router, metrics.router]

# Mounted under /api/v1.
API_V1_ROUTERS: list[APIRouter] = [
    workspace.router, apikeys.router, runs.router, sim_clock.router, meta.router,
]
