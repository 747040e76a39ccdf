"""The sandbox gateway as an ASGI app, served under `/sandbox` by `slotbook serve` or
alone by `slotbook sandbox-gateway`.

`create_sandbox_app()` is the app itself; its routes find the running `Sandbox` on its
state, put there by whoever runs it: `standalone_app` (its own lifespan) or slotbook's
app (inside the service's lifespan, since a mounted app gets no lifespan of its own).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.routing import Mount

from slotbook.edge import openapi
from slotbook.edge.head import HeadAsGetMiddleware
from slotbook.edge.middleware import RequestIdMiddleware
from slotbook.sandbox import control_api, hosted_page, merchant_api, problems
from slotbook.sandbox.runtime import Sandbox

PREFIX = "/sandbox"
DESCRIPTION = """A stand-in for a payment provider, like a test mode: a merchant API,
a hosted payment page, signed webhooks, and control calls that settle payments and
shape their webhooks."""


def create_sandbox_app() -> FastAPI:
    """The gateway's routes, assets and error answers (no lifespan: see the module)."""
    app = FastAPI(title="slotbook sandbox gateway", description=DESCRIPTION, version="1")
    problems.install(app)
    openapi.install(app)  # its errors documented as problem+json, as the service's are
    for module in (merchant_api, control_api, hosted_page):
        app.include_router(module.router)
    static = StaticFiles(packages=[("slotbook.sandbox", "static")])
    app.mount("/static", static, name="sandbox_static")
    return app


@asynccontextmanager
async def serving(app: FastAPI, sandbox: Sandbox) -> AsyncIterator[None]:
    """Run `sandbox` behind `app` (from `create_sandbox_app`) for as long as it lasts."""
    async with sandbox.running():
        app.state.sandbox = sandbox
        try:
            yield
        finally:
            app.state.sandbox = None


def standalone_app(sandbox: Sandbox, *, access_log: bool = False) -> FastAPI:
    """The gateway alone, at the same paths as in slotbook (`/sandbox/...`), behind the
    middleware that serves it when mounted in slotbook: HEAD as GET, request ids."""
    inner = create_sandbox_app()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with serving(inner, sandbox):
            yield

    outer = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)
    problems.install(outer)  # a path outside /sandbox: 404, problem+json too
    mount(outer, inner)
    outer.add_middleware(HeadAsGetMiddleware)
    outer.add_middleware(RequestIdMiddleware, access_log=access_log)  # outermost
    return outer


class _Prefix(Mount):
    """Every path under the prefix, even one with a newline in it (`%0A`), which
    Starlette's own pattern would leave to the outer app's 404."""

    def __init__(self, app: FastAPI) -> None:
        super().__init__(PREFIX, app=app)
        self.path_regex = re.compile(self.path_regex.pattern, re.DOTALL)


def mount(outer: FastAPI, sandbox_app: FastAPI) -> None:
    """Serve `sandbox_app` under `/sandbox` in `outer`, after the routes it has."""
    outer.router.routes.append(_Prefix(sandbox_app))


def include_in_openapi(main: FastAPI, sandbox_app: FastAPI) -> None:
    """Describe the sandbox's paths (under `/sandbox`) in `main`'s OpenAPI document too,
    so one document describes everything served. Each app corrects its own document
    (web/openapi.py), so the merged one says problem+json throughout."""
    build = main.openapi

    def merged() -> dict[str, Any]:
        document = build()  # built once, then cached; the merge is idempotent
        sandbox_doc = sandbox_app.openapi()
        paths = document.setdefault("paths", {})
        for path, item in sandbox_doc.get("paths", {}).items():
            paths[PREFIX + path] = item
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        for name, schema in sandbox_doc.get("components", {}).get("schemas", {}).items():
            schemas.setdefault(name, schema)
        return document

    main.openapi = merged  # type: ignore[method-assign]
