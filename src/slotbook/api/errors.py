"""The one place where errors become HTTP: RFC 9457 problem+json, always with a request id.

Domain errors map by class (see domain/errors.py for the tree); validation errors answer
422 with an `errors` list; anything unexpected answers 500 without leaking internals.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from slotbook.api import render
from slotbook.api.requestid import current_request_id
from slotbook.api.responses import ProblemJSON
from slotbook.domain import errors as e

log = structlog.get_logger("slotbook.errors")

STATUS_BY_ERROR: tuple[tuple[type[e.SlotbookError], int], ...] = (
    (e.NotFound, 404),
    (e.Conflict, 409),
    (e.Unauthorized, 401),
    (e.Forbidden, 403),
    (e.InvalidRequest, 422),
    (e.Unavailable, 503),
)
_TITLES = {400: "Bad request", 404: "Not found", 405: "Method not allowed", 413: "Too large"}


def problem(status: int, slug: str, title: str, detail: str, **extra: Any) -> ProblemJSON:
    body = {
        "type": f"/problems/{slug}",
        "title": title,
        "status": status,
        "detail": detail,
        "request_id": current_request_id(),
        **extra,
    }
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return ProblemJSON(body, status_code=status, headers=headers)


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
    if status >= 500:
        log.error("request_failed", error=exc.slug, detail=exc.detail)
    return problem(status, exc.slug, exc.title, exc.detail, **extra)


def validation_problem(errors: Any) -> ProblemJSON:
    cleaned = [
        {"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type", "")}
        for err in errors
    ]
    return problem(
        422, "validation-error", "Validation error", "the request is not valid", errors=cleaned
    )


async def _on_domain(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, e.SlotbookError)
    return domain_problem(exc)


async def _on_validation(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return validation_problem(exc.errors())


async def _on_http(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    title = _TITLES.get(exc.status_code, "Error")
    slug = title.lower().replace(" ", "-")
    return problem(exc.status_code, slug, title, str(exc.detail))


def unexpected_problem() -> ProblemJSON:
    """The answer to a bug: 500, with nothing of the internals in it."""
    return problem(500, "internal-error", "Internal server error", "an unexpected error occurred")


def install(app: FastAPI) -> None:
    """Route every error the app can raise to its problem+json answer."""
    app.add_exception_handler(e.SlotbookError, _on_domain)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(HTTPException, _on_http)
    # Anything else is answered by RequestIdMiddleware (api/middleware.py), outermost.
