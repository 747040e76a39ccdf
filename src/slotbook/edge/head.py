"""HEAD wherever GET is: one pure ASGI middleware instead of a HEAD route per GET route.

FastAPI registers only the methods a route names. This answers a HEAD request exactly as
the same GET would (status and headers, Content-Length included) and drops the body; a
path without GET answers HEAD as it answers GET, with 405 or 404.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_LAST_EMPTY_BODY: Message = {"type": "http.response.body", "body": b"", "more_body": False}


class HeadAsGetMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = _LAST_EMPTY_BODY
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, send_without_body)
