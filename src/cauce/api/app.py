"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from cauce import __version__
from cauce.api.errors import install_error_handlers
from cauce.api.middleware import RequestIdMiddleware
from cauce.api.routers import API_V1_ROUTERS, ROOT_ROUTERS
from cauce.services.container import Cauce
from cauce.settings import Settings

API_PREFIX = "/api/v1"

# Hooks called with the Cauce container at start-up; each returns a stop function. The
# embedded runtime (workers, scheduler, delivery) registers itself here.
StartHook = Callable[[Cauce], Callable[[], None]]


def create_app(
    settings: Settings, cauce: Cauce | None = None, start_hooks: list[StartHook] | None = None,
    *, warm_up: bool = False,
) -> FastAPI:
    """Build the app. Pass ``cauce`` to share an already open container (tests, CLI);
    ``warm_up`` (``cauce serve``) pays the first-request costs at start-up
    (:mod:`cauce.api.warmup`)."""
    owns_container = cauce is None
    hooks = list(start_hooks or [])

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        container = cauce or Cauce.open(settings)
        app.state.cauce = container
        if warm_up:
            from cauce.api.warmup import warm_up as warm

            await warm(app, container)
        stops = [hook(container) for hook in hooks]
        try:
            yield
        finally:
            for stop in reversed(stops):
                stop()
            if owns_container:
                container.close()

    app = FastAPI(
        title="Cauce",
        version=__version__,
        description="WhatsApp-first flow automation: REST API under /api/v1, webhooks under "
        "/webhooks. Authenticate with an API key: `Authorization: Bearer cau_...`.",
        lifespan=lifespan,
    )
    if cauce is not None:
        app.state.cauce = cauce
    install_error_handlers(app)
    # Cookie logins for the web UI (api/deps.get_principal consults this) and rate limits.
    from cauce.api.ratelimit import RateLimiter, RateLimitMiddleware
    from cauce.api.routes.session import session_principal

    app.state.session_principal = session_principal
    app.state.rate_limiter = RateLimiter()
    app.add_middleware(RateLimitMiddleware)
    app.add_middleware(RequestIdMiddleware)
    for router in ROOT_ROUTERS:
        app.include_router(router)
    for router in API_V1_ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    _mount_web(app)
    return app


def _mount_web(app: FastAPI) -> None:
    """Serve the built web app last, so API routes win."""
    from cauce.web import dist_dir

    dist: Path | None = dist_dir()
    if dist is not None:
        from fastapi.staticfiles import StaticFiles

        app.mount("/", StaticFiles(directory=dist, html=True), name="web")
