"""Request ids and the last line of defence for errors, as one pure ASGI middleware.

It sits outside everything else, so even an unexpected error answers problem+json with
the request's id, and the access log sees the final status.
"""

from __future__ import annotations

import re
import secrets
import time

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from slotbook.edge.problems import error_fields, unexpected_problem
from slotbook.edge.requestid import request_id_var
from slotbook.logs import ACCESS_LOG

_SANE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_HEADER = b"x-request-id"
log = structlog.get_logger("slotbook.http")


class RequestIdMiddleware:
    """Pure ASGI (no per-request task or body buffering): binds the id for logs and errors."""

    def __init__(self, app: ASGIApp, *, access_log: bool) -> None:
        self.app = app
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = ""
        for name, value in scope["headers"]:
            if name == _HEADER:
                rid = value.decode("latin-1")
                break
        if not _SANE.match(rid):
            rid = secrets.token_hex(16)
        token = request_id_var.set(rid)
        started = time.perf_counter()
        status = 500
        started_response = False
        encoded = rid.encode()

        async def send_with_id(message: Message) -> None:
            nonlocal status, started_response
            if message["type"] == "http.response.start":
                status = message["status"]
                started_response = True
                message["headers"] = [*message.get("headers", []), (_HEADER, encoded)]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            log.error("unexpected_error", request_id=rid, exc_info=exc, **error_fields(exc))
            if started_response:
                raise
            await unexpected_problem()(scope, receive, send_with_id)
        finally:
            if self.access_log:
                ACCESS_LOG.write(
                    request_id=rid,
                    method=scope["method"],
                    path=scope["path"],
                    status=status,
                    duration_ms=round((time.perf_counter() - started) * 1000, 2),
                )
            request_id_var.reset(token)
