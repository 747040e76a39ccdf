"""The pages' part of the app: their routes, their static files, and /docs served from
the app's own copy of Swagger UI (nothing from a CDN)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
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
from slotbook.web.pages import render
from slotbook.web.session import FormRefused

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
SWAGGER = "/static/swagger"


def install(app: FastAPI) -> None:
    """Add the pages, /static and /docs to `app` (FastAPI's own /docs turned off)."""
    for module in PAGE_MODULES:
        app.include_router(module.router)
    static = Path(str(resources.files("slotbook.web").joinpath("static")))
    app.mount(STATIC + "/app", StaticFiles(directory=static), name="static")
    app.mount(SWAGGER, StaticFiles(directory=Path(str(swagger_ui_path))), name="swagger")
    app.add_exception_handler(FormRefused, _on_form_refused)

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
