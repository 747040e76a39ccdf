"""The FastAPI application: routers, problem+json errors, request ids, the sweeper."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from fastapi import FastAPI

from slotbook import __version__
from slotbook.api import errors
from slotbook.api.middleware import RequestIdMiddleware
from slotbook.api.routes import auth, catalog, holds, ops, providers
from slotbook.bootstrap import build_context, close_context
from slotbook.config import Settings, load_settings
from slotbook.service_layer.context import Context
from slotbook.service_layer.sweeper import run_sweeper

DESCRIPTION = """Pick a provider's slot, lock it for 10 minutes, pay up front.

Errors are RFC 9457 `application/problem+json` with a `request_id`."""


def create_app(
    settings: Settings | None = None,
    *,
    context: Context | None = None,
    run_sweeper_in_process: bool = True,
) -> FastAPI:
    """The app; with no `context` it builds its own from settings at start-up."""
    settings = settings or (context.settings if context else load_settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctx = context or await build_context(settings)
        app.state.ctx = ctx
        # Everything built so far lives as long as the process: keep the cyclic collector
        # from walking it again and again, and let the youngest generation grow before a
        # collection (a request allocates a few hundred short-lived objects). Measured:
        # p99 at 32 clients roughly halved, server CPU per request down ~15%.
        gc.collect()
        gc.freeze()
        gc.set_threshold(50_000, 20, 100)
        stop = asyncio.Event()
        sweeper = (
            asyncio.create_task(run_sweeper(ctx, stop), name="sweeper")
            if run_sweeper_in_process
            else None
        )
        try:
            yield
        finally:
            stop.set()
            if sweeper is not None:
                with suppress(asyncio.CancelledError):
                    await sweeper
            if context is None:
                await close_context(ctx)

    app = FastAPI(
        title="slotbook",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        # metrics are Prometheus (api/metrics.py); FastAPI's OpenTelemetry bridge would only
        # cost the hot path a provider lookup per request
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    if context is not None:
        app.state.ctx = context
    errors.install(app)
    for module in (holds, auth, providers, catalog, ops):  # the hot route matches first
        app.include_router(module.router)
    app.add_middleware(RequestIdMiddleware, access_log=settings.access_log)
    return app


def app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` (one per worker process)."""
    from slotbook.logs import configure_logging

    settings = load_settings()
    configure_logging(settings.log_level)
    return create_app(settings)
