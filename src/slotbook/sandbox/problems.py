"""The sandbox's refusals as problem+json, the way the service answers its own: `type`
`/sandbox/problems/<code>`, the code again as `code`, the request's id; every 422 with
`errors` (`{loc, msg, type}`), every 405 with the `Allow` its document declares, every
503 with `Retry-After`, and a bug as a 500 that says nothing of it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from slotbook.edge.allow import allowed_methods
from slotbook.edge.problems import error_items, problem, unexpected_problem
from slotbook.edge.responses import ProblemJSON
from slotbook.sandbox.errors import SandboxError, StorageUnavailable

NAMESPACE = "/sandbox/problems"
_HTTP = {
    400: ("bad_request", "Bad request"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
}


def sandbox_problem(exc: SandboxError) -> ProblemJSON:
    extra: dict[str, Any] = {}
    if exc.status == 422:
        extra["errors"] = [{"loc": list(exc.loc), "msg": exc.message, "type": exc.code}]
    return _problem(exc.status, exc.code, exc.title, exc.message, **extra)


def invalid_request(errors: Iterable[Mapping[str, Any]]) -> ProblemJSON:
    """What the schema refused, one item per fault."""
    code, items = SandboxError.code, error_items(errors)
    return _problem(422, code, SandboxError.title, "the request is not valid", errors=items)


def _problem(status: int, code: str, title: str, detail: str, **extra: Any) -> ProblemJSON:
    return problem(status, code, title, detail, namespace=NAMESPACE, code=code, **extra)


async def _refused(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, SandboxError)
    return sandbox_problem(exc)


async def _invalid(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return invalid_request(exc.errors())


async def _http(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (a body that cannot be read, 404, 405), headers kept."""
    assert isinstance(exc, HTTPException)
    code, title = _HTTP.get(exc.status_code, ("http_error", "Error"))
    headers = dict(exc.headers or {})
    if exc.status_code == 405:  # its path within the sandbox, mounted or not
        path = request.url.path.removeprefix(request.scope.get("root_path", ""))
        allow = allowed_methods(request.app, path)
        if allow:
            headers["Allow"] = allow
    return _problem(exc.status_code, code, title, str(exc.detail), headers=headers)


async def _storage_failed(_: Request, exc: Exception) -> Response:
    """Its file locked past the busy timeout, or gone: not now, maybe soon."""
    reason = getattr(exc, "orig", None) or exc
    return sandbox_problem(StorageUnavailable(f"the sandbox's file failed: {reason}"))


async def _unexpected(_: Request, __: Exception) -> Response:
    return unexpected_problem()


def install(app: FastAPI) -> None:
    """Route every error the sandbox's app can raise to its problem+json answer."""
    app.add_exception_handler(SandboxError, _refused)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(OperationalError, _storage_failed)
    app.add_exception_handler(Exception, _unexpected)  # logged by RequestIdMiddleware
