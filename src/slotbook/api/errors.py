"""The one place where errors become HTTP: RFC 9457 problem+json, always with a request id.

Domain errors map by class (see domain/errors.py for the tree); every 422, whether the
schema or a domain rule refused the request, carries an `errors` list of
`{"loc", "msg", "type"}`; anything unexpected answers 500 without leaking internals.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from slotbook.api import render
from slotbook.domain import errors as e
from slotbook.edge.allow import allowed_methods
from slotbook.edge.problems import error_fields, error_items, problem
from slotbook.edge.responses import ProblemJSON

log = structlog.get_logger("slotbook.errors")

STATUS_BY_ERROR: tuple[tuple[type[e.SlotbookError], int], ...] = (
    (e.NotFound, 404),
    (e.Conflict, 409),
    (e.Unauthorized, 401),
    (e.Forbidden, 403),
    (e.InvalidRequest, 422),
    (e.BadRequest, 400),
    (e.GatewayRefused, 502),
    (e.Unavailable, 503),
)
_TITLES = {400: "Bad request", 404: "Not found", 405: "Method not allowed", 413: "Too large"}


def status_of(exc: e.SlotbookError) -> int:
    for kind, status in STATUS_BY_ERROR:
        if isinstance(exc, kind):
            return status
    return 500


def domain_problem(exc: e.SlotbookError) -> ProblemJSON:
    status = status_of(exc)
    extra: dict[str, Any] = dict(exc.extra)
    if isinstance(exc, e.SlotUnavailable):
        extra["slot_id"] = exc.slot_id
        extra["suggestions"] = [render.suggestion(s) for s in exc.suggestions]
    if status == 422 and "errors" not in extra:
        loc = list(exc.loc) if isinstance(exc, e.InvalidRequest) else []
        extra["errors"] = [{"loc": loc, "msg": exc.detail, "type": exc.slug}]
    if status >= 500:
        log.error("request_failed", error=exc.slug, detail=exc.detail, **error_fields(exc))
    return problem(
        status,
        exc.slug,
        exc.title,
        exc.detail,
        retry_after_seconds=exc.retry_after_seconds,
        **extra,
    )


def validation_problem(errors: Any) -> ProblemJSON:
    return problem(
        422,
        "validation-error",
        "Validation error",
        "the request is not valid",
        errors=error_items(errors),
    )


async def _on_domain(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, e.SlotbookError)
    return domain_problem(exc)


async def _on_validation(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return validation_problem(exc.errors())


async def _on_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return http_problem(request, exc)


def http_problem(request: Request, exc: HTTPException) -> ProblemJSON:
    """Starlette's and FastAPI's own HTTP errors (404, 405, 413 ...) as problems."""
    title = _TITLES.get(exc.status_code, "Error")
    slug = title.lower().replace(" ", "-")
    headers = dict(exc.headers or {})  # keeps what HTTP requires, such as Allow on a 405
    if exc.status_code == 405:
        allow = allowed_methods(request.app, request.url.path)
        if allow:
            headers["Allow"] = allow
    return problem(exc.status_code, slug, title, str(exc.detail), headers=headers)


def install(app: FastAPI) -> None:
    """Route every error the app can raise to its problem+json answer."""
    app.add_exception_handler(e.SlotbookError, _on_domain)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(HTTPException, _on_http)
    # Anything else is answered by RequestIdMiddleware (web/middleware.py), outermost.
