"""What the Stripe and Omise stand-ins share: answers built from the documented bodies under
tests/fixtures/<provider>/, ids minted in order, every request recorded, replays by
Idempotency-Key (as both providers do), faults a test queues (an answer of its own, a 5xx
or a decline, or a request held until the stand-in closes: the client's timeout runs out
first), event bodies in the provider's envelope, and `running`: the stand-in on loopback
with slotbook's adapter pointed at it."""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.sandbox_helpers import LocalServer

FIXTURES = Path(__file__).parent / "fixtures"
HANG = -1  # a queued fault: hold the request until the stand-in closes
Answer = tuple[int, dict[str, Any]]  # a status and its JSON body


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
    faults: deque[Answer] = field(default_factory=deque)
    replays: dict[str, Answer] = field(default_factory=dict)
    released: asyncio.Event = field(default_factory=asyncio.Event)
    url: str = ""
    honours_idempotency_keys: bool = True  # Stripe does; Omise documents no such thing
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def routes(self) -> list[Route]:
        """The provider's own paths (each stand-in says which)."""
        raise NotImplementedError

    def new_id(self, prefix: str) -> str:
        """The next id of this stand-in, in the provider's shape: `prefix` and six digits."""
        return f"{prefix}{next(self._ids):06d}"

    def envelope(self, event_id: str, **fields: Any) -> bytes:
        """The body the provider posts for an event: its documented envelope
        (tests/fixtures/<provider>/event.json) with this id and these fields."""
        event = fixture(self.provider, "event.json")
        event.update(id=event_id, **fields)
        return json.dumps(event).encode()

    def fail_next(self, status: int, body: dict[str, Any] | None = None) -> None:
        """The next request answers this status (and body), whatever it asks."""
        self.faults.append((status, body or {}))

    def hang_next(self) -> None:
        self.faults.append((HANG, {}))

    def idempotency_keys(self) -> list[str | None]:
        """The Idempotency-Key of every changing request, in order."""
        return [s.headers.get("idempotency-key") for s in self.seen if s.method == "POST"]

    def endpoint(
        self, handle: Callable[[Request, bytes], Awaitable[Answer]]
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


class Gateway(Protocol):
    """Slotbook's adapter of a provider, as `running` uses it."""

    async def aclose(self) -> None: ...


S = TypeVar("S", bound=StandIn)
G = TypeVar("G", bound=Gateway)


@asynccontextmanager
async def running(stand_in: S, gateway_for: Callable[[str], G]) -> AsyncIterator[tuple[S, G]]:
    """The stand-in on a loopback port of its own (its base URL in `url`), and slotbook's
    adapter made by `gateway_for` from that URL; at the end the adapter is closed and any
    request held by `hang_next` let go."""
    async with LocalServer(Starlette(routes=stand_in.routes()), lifespan="off") as server:
        stand_in.url = server.url
        try:
            gateway = gateway_for(server.url)
            try:
                yield stand_in, gateway
            finally:
                await gateway.aclose()
        finally:
            stand_in.released.set()
