"""Idempotency-Key at the HTTP edge: a route's answer as bytes, and replays as responses.

A replayed problem carries the request id of the request being answered, not the first
one's; everything else in a replay is the first answer, byte for byte.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import orjson
from starlette.responses import Response

from slotbook.api.errors import domain_problem, status_of
from slotbook.domain import errors as e
from slotbook.edge.requestid import current_request_id
from slotbook.service_layer.idempotency import Answer

PROBLEM = "application/problem+json"


async def answer_of(work: Awaitable[Response]) -> Answer:
    """The route's answer for the idempotency store: client errors become their problem;
    server errors, "retry shortly" refusals and anything unexpected propagate (they end the
    key's lease, so a retry runs again instead of replaying them)."""
    try:
        response = await work
    except e.SlotbookError as exc:
        if status_of(exc) >= 500 or exc.retry_after_seconds is not None:
            raise
        response = domain_problem(exc)
    return Answer(response.status_code, bytes(response.body))


def response_of(answer: Answer) -> Response:
    """The HTTP response for an answer, stored or just made."""
    body = answer.body
    if answer.status_code >= 400 and answer.replayed:
        body = _with_request_id(body)
    media = PROBLEM if answer.status_code >= 400 else "application/json"
    return Response(body, status_code=answer.status_code, media_type=media)


def _with_request_id(body: bytes) -> bytes:
    problem: Any = orjson.loads(body)
    if not isinstance(problem, dict) or "request_id" not in problem:
        return body
    problem["request_id"] = current_request_id()
    return orjson.dumps(problem)
