"""Talking to a real server over HTTP: accounts, a provider's catalog, a race for a slot."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx

CATEGORY = "massage"
PASSWORD = "e2e-password-123"
SIGNUP_CONCURRENCY = 16
REQUEST_SECONDS = 30.0
RACE_SECONDS = 60.0
# Idle connections are dropped by the client well before the server's keep-alive timeout
# would close them: reusing one the server is just closing fails the request.
KEEPALIVE_SECONDS = 3.0
SUGGESTION_KEYS = frozenset(
    {
        "slot_id",
        "provider_id",
        "service_id",
        "starts_at",
        "ends_at",
        "price_minor",
        "currency",
        "kind",
    }
)
KINDS = frozenset({"same_provider", "other_provider"})


class Lanes(httpx.AsyncBaseTransport):
    """One keep-alive connection per lane (request extension "lane"), plus a shared pool.

    A burst of requests over one shared httpcore pool is neither simultaneous nor
    reliable: every request of the burst is first handed the same idle connection and
    then retried one at a time, and the pool may close an idle connection it has just
    handed to a request (httpx.ReadError). With a connection of its own per customer,
    each request of the race goes out at once on its own warm connection.
    """

    def __init__(self, lanes: int, shared_connections: int = 20) -> None:
        one = httpx.Limits(
            max_connections=1, max_keepalive_connections=1, keepalive_expiry=KEEPALIVE_SECONDS
        )
        self._lanes = [httpx.AsyncHTTPTransport(limits=one) for _ in range(lanes)]
        shared = httpx.Limits(
            max_connections=shared_connections,
            max_keepalive_connections=shared_connections,
            keepalive_expiry=KEEPALIVE_SECONDS,
        )
        self._shared = httpx.AsyncHTTPTransport(limits=shared)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        lane = request.extensions.get("lane")
        transport = self._shared if lane is None else self._lanes[lane]
        return await transport.handle_async_request(request)

    async def aclose(self) -> None:
        for transport in (*self._lanes, self._shared):
            await transport.aclose()


def client_for(
    base_url: str, lanes: int = 0, timeout: float = REQUEST_SECONDS
) -> httpx.AsyncClient:
    """One client for many users, with `lanes` connections of their own (200 for the
    race); every request bounded by a timeout."""
    return httpx.AsyncClient(base_url=base_url, transport=Lanes(lanes), timeout=timeout)


@dataclass(frozen=True)
class Account:
    user_id: str
    token: str
    provider_id: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass(frozen=True)
class Catalog:
    provider: Account
    service_id: str
    slots: list[dict[str, object]]

    @property
    def slot_ids(self) -> list[str]:
        return [str(s["id"]) for s in self.slots]


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    assert text.endswith("Z"), text
    return datetime.fromisoformat(text)


def tomorrow_at(hour: int) -> datetime:
    day = datetime.now(UTC).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def hourly(first: datetime, count: int) -> list[datetime]:
    return [first + timedelta(hours=i) for i in range(count)]


async def sign_up(client: httpx.AsyncClient, role: str, name: str) -> Account:
    body = {
        "email": f"{name}-{uuid.uuid4().hex[:10]}@example.com",
        "password": PASSWORD,
        "name": name,
        "role": role,
    }
    answer = await client.post("/v1/auth/signup", json=body)
    assert answer.status_code == 201, answer.text
    signed = answer.json()
    assert signed["token_type"] == "bearer"
    assert signed["user"]["role"] == role
    provider_id = None
    if role == "provider":
        me = await client.get(
            "/v1/me", headers={"Authorization": f"Bearer {signed['access_token']}"}
        )
        assert me.status_code == 200, me.text
        provider_id = me.json()["provider_id"]
    return Account(signed["user"]["id"], signed["access_token"], provider_id)


async def sign_up_customers(client: httpx.AsyncClient, count: int) -> list[Account]:
    """`count` distinct customers, signed up with bounded concurrency."""
    gate = asyncio.Semaphore(SIGNUP_CONCURRENCY)

    async def one(i: int) -> Account:
        async with gate:
            return await sign_up(client, "customer", f"customer{i}")

    customers = await asyncio.gather(*(one(i) for i in range(count)))
    assert len({c.user_id for c in customers}) == count
    return customers


async def open_catalog(
    client: httpx.AsyncClient, name: str, starts: Sequence[datetime], price_minor: int = 150_000
) -> Catalog:
    """A provider with one service of CATEGORY and a slot at each start."""
    provider = await sign_up(client, "provider", name)
    service = await client.post(
        "/v1/providers/me/services",
        json={
            "name": f"{name} massage",
            "category": CATEGORY,
            "duration_minutes": 30,
            "price_minor": price_minor,
            "currency": "THB",
        },
        headers=provider.headers,
    )
    assert service.status_code == 201, service.text
    service_id = service.json()["id"]
    created = await client.post(
        "/v1/providers/me/slots",
        json={"service_id": service_id, "starts_at": [iso(t) for t in starts]},
        headers=provider.headers,
    )
    assert created.status_code == 201, created.text
    slots = created.json()["slots"]
    assert len(slots) == len(starts)
    assert all(s["status"] == "available" for s in slots)
    assert all(s["provider_id"] == provider.provider_id for s in slots)
    return Catalog(provider, service_id, slots)


async def warm_connections(client: httpx.AsyncClient, lanes: int) -> None:
    """A concurrent GET /healthz on each lane, so each has an open connection (one that
    fails cancels the others, so none is left running on a client about to close)."""
    async with asyncio.TaskGroup() as group:
        tasks = [
            group.create_task(client.get("/healthz", extensions={"lane": i})) for i in range(lanes)
        ]
    assert all(t.result().status_code == 200 for t in tasks)


async def race_for_slot(
    client: httpx.AsyncClient, slot_id: str, customers: Sequence[Account]
) -> list[httpx.Response]:
    """Every customer POSTs /v1/holds for the slot at the same moment, each on its own
    warm connection (lane i): all requests are created and parked on one event, which
    opens only once all of them are waiting."""
    go = asyncio.Event()
    everyone_waiting = asyncio.Event()
    waiting = 0

    async def take(lane: int, customer: Account) -> httpx.Response:
        nonlocal waiting
        waiting += 1
        if waiting == len(customers):
            everyone_waiting.set()
        await go.wait()
        return await client.post(
            "/v1/holds",
            json={"slot_id": slot_id},
            headers=customer.headers,
            extensions={"lane": lane},
        )

    async with asyncio.timeout(RACE_SECONDS):
        await warm_connections(client, len(customers))
        racers = asyncio.gather(*(take(i, c) for i, c in enumerate(customers)))
        await everyone_waiting.wait()
        go.set()
        return await racers
