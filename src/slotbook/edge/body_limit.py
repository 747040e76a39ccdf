"""Request bodies of a bounded size: a larger one is refused 413, never read into memory.

Every route reads its body whole (JSON, a form, a webhook), so without a bound one client
sending gigabytes could take the process's memory. A body declared larger than the limit
(`Content-Length`) is answered at once, unread; one sent without a length (chunked) is
counted as it arrives and refused the moment it passes the limit. Both answers are the
413 problem every other error path gives (api/errors.py maps the HTTPException raised
mid-read; the fast lane does the same).
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from slotbook.edge.problems import problem

_CONTENT_LENGTH = b"content-length"


def _detail(limit: int) -> str:
    return f"a request body is at most {limit} bytes"


def too_large(limit: int) -> HTTPException:
    return HTTPException(413, _detail(limit))


class BodyLimitMiddleware:
    """Pure ASGI; a request with a declared length within the limit costs one header scan."""

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is None:
            await self.app(scope, self._counting(receive), send)
        elif declared > self.limit:
            refusal = problem(413, "too-large", "Too large", _detail(self.limit))
            await refusal(scope, receive, send)
        else:  # the server reads no more than the declared length
            await self.app(scope, receive, send)

    def _counting(self, receive: Receive) -> Receive:
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise too_large(self.limit)
            return message

        return counted


def _declared_length(scope: Scope) -> int | None:
    """The request's Content-Length, or None without one (or with one unreadable, which
    the server itself refuses before the application sees the request)."""
    for name, value in scope["headers"]:
        if name == _CONTENT_LENGTH:
            try:
                return int(value)
            except ValueError:
                return None
    return None
