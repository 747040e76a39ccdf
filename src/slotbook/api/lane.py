"""The fast lane: the busiest routes answered straight from the ASGI call.

`POST /v1/holds` is the request every popular slot sees hundreds of times a second, and
a gateway's webhooks come in bursts. FastAPI's stack around a route (its server-error,
telemetry, body-limit and exception middleware, the exit stack, the router's matching)
measured as about a third of the server's CPU per hold. The lane sits in front of that
whole stack (`LaneFirst`): it answers the routes in its table by calling their endpoint
functions, the very functions FastAPI serves and documents, maps their errors with the
same handlers, and wraps its answers in the same edge as every other request (`around`:
request ids, the access log, the last-resort 500, the body limit). Everything else, any
other method on those paths included, goes on through FastAPI unchanged.

A route's path is exact, or ends in one parameter (`/v1/webhooks/{gateway}`): a
non-empty last segment, handed to the endpoint in `request.path_params` as Starlette
would.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from functools import partial

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from slotbook.api.errors import domain_problem, http_problem, validation_problem
from slotbook.domain.errors import SlotbookError

Endpoint = Callable[[Request], Awaitable[Response]]
_ENDPOINT = "slotbook.lane.endpoint"  # the scope key that hands the match to the answer


def _as_is(app: ASGIApp) -> ASGIApp:
    return app


class FastLane:
    """Pure ASGI: `routes` maps (method, path) to an endpoint taking the request; the
    lane's answers go through `around(answer)`, everything else to `app`."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        owner: ASGIApp,
        routes: Mapping[tuple[str, str], Endpoint],
        around: Callable[[ASGIApp], ASGIApp] = _as_is,
    ) -> None:
        self.app = app
        self.owner = owner  # the application the endpoints read their context from
        self._answer = around(self._call_endpoint)
        self._exact: dict[tuple[str, str], Endpoint] = {}
        self._last_param: dict[tuple[str, str], tuple[str, Endpoint]] = {}
        for (method, path), endpoint in routes.items():
            prefix, _, last = path.rpartition("/")
            if last.startswith("{") and last.endswith("}"):
                self._last_param[(method, prefix + "/")] = (last[1:-1], endpoint)
            else:
                self._exact[(method, path)] = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = self._match(scope) if scope["type"] == "http" else None
        if endpoint is None:
            await self.app(scope, receive, send)
            return
        scope["app"] = self.owner
        scope[_ENDPOINT] = endpoint
        await self._answer(scope, receive, send)

    async def _call_endpoint(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint: Endpoint = scope[_ENDPOINT]
        request = Request(scope, receive)
        try:
            response = await endpoint(request)
        except SlotbookError as exc:
            response = domain_problem(exc)
        except RequestValidationError as exc:
            response = validation_problem(exc.errors())
        except HTTPException as exc:  # a body over the limit, refused while read
            response = http_problem(request, exc)
        await response(scope, receive, send)

    def _match(self, scope: Scope) -> Endpoint | None:
        method, path = scope["method"], scope["path"]
        endpoint = self._exact.get((method, path))
        if endpoint is not None or not self._last_param:
            return endpoint
        prefix, _, last = path.rpartition("/")
        found = self._last_param.get((method, prefix + "/"))
        if found is None or not last:
            return None
        name, endpoint = found
        scope["path_params"] = {name: last}
        return endpoint


class LaneFirst(FastAPI):
    """FastAPI with a fast lane in front of its whole middleware stack, once `lane` is set
    (to a FastLane whose `app` is `pass_through(self)`)."""

    lane: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.lane is None:
            await super().__call__(scope, receive, send)
        else:
            await self.lane(scope, receive, send)

    def pass_through(self) -> ASGIApp:
        """The application as FastAPI alone serves it, for what the lane does not answer."""
        return partial(FastAPI.__call__, self)
