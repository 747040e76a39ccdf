"""The fast lane answers exactly the routes in its table, as FastAPI would, and passes
everything else on untouched."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from slotbook.api.app import LANE_ROUTES, ROUTE_MODULES
from slotbook.api.lane import FastLane, LaneFirst
from slotbook.domain.errors import SlotUnavailable


def test_every_lane_route_is_the_endpoint_fastapi_serves_and_documents() -> None:
    served = {
        (method, route.path): route.endpoint
        for module in ROUTE_MODULES
        for route in module.router.routes
        if isinstance(route, APIRoute)
        for method in route.methods
    }
    assert LANE_ROUTES
    for key, endpoint in LANE_ROUTES.items():
        assert served.get(key) is endpoint, key


class _Inner:
    """The application behind the lane: answers 299 and remembers what reached it."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.seen.append((scope["method"], scope["path"]))
        await PlainTextResponse("inner", status_code=299)(scope, receive, send)


async def _ok(request: Request) -> Response:
    assert request.app is OWNER  # endpoints find their context through the owner app
    return PlainTextResponse(await request.body())


async def _named(request: Request) -> Response:
    return PlainTextResponse(request.path_params["name"])


async def _taken(_: Request) -> Response:
    raise SlotUnavailable("the slot is held", slot_id="s1", suggestions=[])


async def _invalid(_: Request) -> Response:
    raise RequestValidationError([{"loc": ("body", "slot_id"), "msg": "bad", "type": "x"}])


OWNER: Any = object()


def _client(inner: _Inner) -> httpx.AsyncClient:
    lane = FastLane(
        inner,
        owner=OWNER,
        routes={
            ("POST", "/ok"): _ok,
            ("POST", "/taken"): _taken,
            ("POST", "/invalid"): _invalid,
            ("POST", "/named/{name}"): _named,
        },
    )
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=lane), base_url="http://t")


async def test_a_lane_route_is_answered_by_its_endpoint() -> None:
    inner = _Inner()
    async with _client(inner) as client:
        answer = await client.post("/ok", content=b"body")
    assert (answer.status_code, answer.text) == (200, "body")
    assert inner.seen == []


async def test_a_last_path_parameter_reaches_the_endpoint_as_starlette_gives_it() -> None:
    inner = _Inner()
    async with _client(inner) as client:
        answer = await client.post("/named/sandbox")
        elsewhere = [await client.post(p) for p in ("/named/", "/named/a/b", "/named")]
    assert (answer.status_code, answer.text) == (200, "sandbox")
    assert [a.status_code for a in elsewhere] == [299] * 3
    assert inner.seen == [("POST", "/named/"), ("POST", "/named/a/b"), ("POST", "/named")]


async def test_errors_on_the_lane_are_the_problems_fastapi_would_answer() -> None:
    async with _client(_Inner()) as client:
        taken = await client.post("/taken")
        invalid = await client.post("/invalid")
    assert taken.status_code == 409
    assert taken.headers["content-type"] == "application/problem+json"
    assert taken.json()["type"] == "/problems/slot-unavailable"
    assert taken.json()["suggestions"] == []
    assert invalid.status_code == 422
    assert invalid.json()["errors"] == [{"loc": ["body", "slot_id"], "msg": "bad", "type": "x"}]


async def test_other_methods_and_paths_go_on_to_the_application() -> None:
    inner = _Inner()
    async with _client(inner) as client:
        answers = [
            await client.get("/ok"),
            await client.head("/ok"),
            await client.post("/ok/"),
            await client.post("/elsewhere"),
        ]
    assert [a.status_code for a in answers] == [299] * 4
    assert inner.seen == [("GET", "/ok"), ("HEAD", "/ok"), ("POST", "/ok/"), ("POST", "/elsewhere")]


async def test_in_front_of_fastapi_the_lane_skips_its_stack_and_keeps_its_own_edge() -> None:
    """LaneFirst: a lane route passes only the lane's `around`; anything else passes
    FastAPI's whole stack (its middleware here) as if there were no lane."""
    passed: list[tuple[str, str]] = []

    def recording(name: str) -> Callable[[ASGIApp], ASGIApp]:
        def wrap(inner: ASGIApp) -> ASGIApp:
            async def app(scope: Scope, receive: Receive, send: Send) -> None:
                passed.append((name, scope["path"]))
                await inner(scope, receive, send)

            return app

        return wrap

    app = LaneFirst()

    @app.get("/slow")
    async def slow() -> dict[str, str]:
        return {"via": "fastapi"}

    app.add_middleware(_Recording, record=passed)
    app.lane = FastLane(
        app.pass_through(),
        owner=app,
        routes={("POST", "/fast"): _fast},
        around=recording("edge"),
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        fast = await client.post("/fast")
        slow_answer = await client.get("/slow")
    assert (fast.status_code, fast.text) == (200, "fast")
    assert slow_answer.json() == {"via": "fastapi"}
    assert passed == [("edge", "/fast"), ("fastapi-middleware", "/slow")]


async def _fast(request: Request) -> Response:
    assert isinstance(request.app, LaneFirst)
    return PlainTextResponse("fast")


class _Recording:
    def __init__(self, app: ASGIApp, *, record: list[tuple[str, str]]) -> None:
        self.app, self.record = app, record

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.record.append(("fastapi-middleware", scope["path"]))
        await self.app(scope, receive, send)
