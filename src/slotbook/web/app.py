"""The pages' part of the app: their routes, their static files, and /docs served from
the app's own copy of Swagger UI (nothing from a CDN)."""

from __future__ import annotations

import inspect
from importlib import resources
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.responses import Response
from swagger_ui_bundle import swagger_ui_path

from slotbook.web import (
    auth_pages,
    booking_list_pages,
    booking_pages,
    card_pages,
    catalog_pages,
    hours_pages,
    return_pages,
    saved_pages,
)
from slotbook.web.pages import ctx_of, not_found, render
from slotbook.web.session import FormRefused, principal_of

PAGE_MODULES = (
    catalog_pages,
    auth_pages,
    booking_pages,
    card_pages,
    return_pages,
    booking_list_pages,
    saved_pages,
    hours_pages,
)
STATIC = "/static"
API_PATHS = ("/v1/", "/sandbox/")  # answered in problem+json whoever asks
SWAGGER = "/static/swagger"


def install(app: FastAPI) -> None:
    """Add the pages, /static and /docs to `app` (FastAPI's own /docs turned off)."""
    for module in PAGE_MODULES:
        app.include_router(module.router)
    static = Path(str(resources.files("slotbook.web").joinpath("static")))
    app.mount(STATIC + "/app", StaticFiles(directory=static), name="static")
    app.mount(SWAGGER, StaticFiles(directory=Path(str(swagger_ui_path))), name="swagger")
    app.add_exception_handler(FormRefused, _on_form_refused)
    _not_found_as_a_page(app)

    @app.get("/docs", include_in_schema=False)
    async def docs() -> Response:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} — API",
            swagger_js_url=f"{SWAGGER}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER}/swagger-ui.css",
            swagger_favicon_url=f"{SWAGGER}/favicon-32x32.png",
        )


async def _on_form_refused(request: Request, exc: Exception) -> Response:
    return render(request, "message.html", 403, message="form-refused")


def _not_found_as_a_page(app: FastAPI) -> None:
    """A browser asking for a page that is not there (an unknown path, or an id in the
    path that is no id) gets the not-found page; everyone else, and every API path, keeps
    the problem+json the API's handlers answer (installed before this)."""
    problems = dict(app.exception_handlers)

    async def problem(kind: type[Exception], request: Request, exc: Exception) -> Response:
        answer = problems[kind](request, exc)
        response: Response = await answer if inspect.isawaitable(answer) else answer
        return response

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404 and _wants_a_page(request):
            return _not_found(request)
        return await problem(HTTPException, request, exc)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        in_path = all(err["loc"][:1] == ("path",) for err in exc.errors())
        if in_path and _wants_a_page(request):
            return _not_found(request)
        return await problem(RequestValidationError, request, exc)

    app.add_exception_handler(HTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)


def _wants_a_page(request: Request) -> bool:
    return (
        request.method in ("GET", "HEAD")
        and not request.url.path.startswith(API_PATHS)
        and "text/html" in request.headers.get("accept", "")
    )


def _not_found(request: Request) -> Response:
    return not_found(request, principal_of(ctx_of(request), request))
