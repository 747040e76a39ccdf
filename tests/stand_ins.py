"""What the Stripe and Omise stand-ins share: answers built from the documented bodies under
tests/fixtures/<provider>/, every request recorded, replays by Idempotency-Key (as both
providers do), and faults a test queues: an answer of its own (a 5xx, a decline) or a
request held until the stand-in closes (the client's timeout runs out first)."""

from __future__ import annotations

import asyncio
import copy
import json
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.sandbox_helpers import LocalServer

FIXTURES = Path(__file__).parent / "fixtures"
HANG = -1  # a queued fault: hold the request until the stand-in closes


def fixture(provider: str, name: str) -> dict[str, Any]:
    """A fresh copy of one documented body."""
    body: dict[str, Any] = json.loads((FIXTURES / provider / name).read_text())
    return copy.deepcopy(body)


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class StandIn:
    """The common part of a provider stand-in; `routes` are the provider's own."""

    provider: str
    seen: list[Seen] = field(default_factory=list)
    faults: deque[tuple[int, dict[str, Any]]] = field(default_factory=deque)
    replays: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    released: asyncio.Event = field(default_factory=asyncio.Event)
    url: str = ""
    honours_idempotency_keys: bool = True  # Stripe does; Omise documents no such thing

    def fail_next(self, status: int, body: dict[str, Any] | None = None) -> None:
        """The next request answers this status (and body), whatever it asks."""
        self.faults.append((status, body or {}))

    def hang_next(self) -> None:
        self.faults.append((HANG, {}))

    def idempotency_keys(self) -> list[str | None]:
        """The Idempotency-Key of every changing request, in order."""
        return [s.headers.get("idempotency-key") for s in self.seen if s.method == "POST"]

    def endpoint(
        self, handle: Callable[[Request, bytes], Awaitable[tuple[int, dict[str, Any]]]]
    ) -> Callable[[Request], Awaitable[Response]]:
        async def serve(request: Request) -> Response:
            body = await request.body()
            headers = {k.lower(): v for k, v in request.headers.items()}
            self.seen.append(Seen(request.method, request.url.path, headers, body))
            if self.faults:
                status, fault = self.faults.popleft()
                if status == HANG:
                    await self.released.wait()
                    return Response(status_code=504)
                return JSONResponse(fault, status_code=status)
            key = headers.get("idempotency-key")
            honoured = key and self.honours_idempotency_keys
            replay_key = f"{request.url.path} {key}" if honoured else None
            if replay_key is not None and replay_key in self.replays:
                status, answer = self.replays[replay_key]
            else:
                status, answer = await handle(request, body)
                if replay_key is not None:
                    self.replays[replay_key] = (status, copy.deepcopy(answer))
            return JSONResponse(answer, status_code=status)

        return serve


@asynccontextmanager
async def serving(stand_in: StandIn, routes: list[Route]) -> AsyncIterator[str]:
    """The stand-in on a loopback port of its own; its base URL."""
    async with LocalServer(Starlette(routes=routes), lifespan="off") as server:
        stand_in.url = server.url
        try:
            yield server.url
        finally:
            stand_in.released.set()
