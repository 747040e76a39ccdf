"""RFC 9457 problem+json answers, always with the id of the request being served.

`type` is `<namespace>/<slug>`: `/problems/...` for the service, `/sandbox/problems/...`
for the sandbox gateway. A 503 always says when to retry (`Retry-After`, 1 s by default).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from slotbook.edge.requestid import current_request_id
from slotbook.edge.responses import ProblemJSON


def problem(
    status: int,
    slug: str,
    title: str,
    detail: str,
    *,
    namespace: str = "/problems",
    retry_after_seconds: int | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> ProblemJSON:
    body = {
        "type": f"{namespace}/{slug}",
        "title": title,
        "status": status,
        "detail": detail,
        "request_id": current_request_id(),
        **extra,
    }
    sent = dict(headers or {})
    if status == 401:
        sent["WWW-Authenticate"] = "Bearer"
    if status == 503 or retry_after_seconds is not None:
        sent["Retry-After"] = str(retry_after_seconds or 1)
    return ProblemJSON(body, status_code=status, headers=sent or None)


def error_items(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """A 422's `errors`: pydantic's errors as `{loc, msg, type}` (never the input)."""
    return [
        {"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type", "")}
        for err in errors
    ]


def error_fields(exc: BaseException) -> dict[str, str]:
    """What a 5xx log line says of its error: the class and message of the exception and
    of the one underneath it (never the response)."""
    fields = {"exc_class": type(exc).__name__, "exc_message": str(exc)}
    cause = exc.__cause__ or exc.__context__
    if cause is not None:
        fields["cause_class"] = type(cause).__name__
        fields["cause_message"] = str(cause)
    return fields


def unexpected_problem() -> ProblemJSON:
    """The answer to a bug: 500, with nothing of the internals in it."""
    return problem(500, "internal-error", "Internal server error", "an unexpected error occurred")
