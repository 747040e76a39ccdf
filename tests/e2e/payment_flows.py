"""Paying for holds end to end: a real `slotbook serve`, a real `slotbook sandbox-gateway`
process, webhooks over HTTP between them; helpers that act as customers, providers, an
admin and the gateway's control calls."""

from __future__ import annotations

import asyncio
import subprocess
import time
import uuid
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from tests.e2e.booking import (
    PASSWORD,
    Account,
    Catalog,
    client_for,
    hourly,
    open_catalog,
    tomorrow_at,
)
from tests.e2e.booking import sign_up as sign_up_account
from tests.e2e.servers import SLOTBOOK, Launcher, Server, service_env

FINAL = {"succeeded", "failed", "cancelled", "refunded"}
WAIT_SECONDS = 30.0
POLL_SECONDS = 0.05
# fast retries, and the service does not serve its own sandbox: the gateway is a process
SERVER_ENV = {
    "SLOTBOOK_SANDBOX_MOUNT": "false",
    "SLOTBOOK_OUTBOX_MAX_BACKOFF_SECONDS": "1",
    "SLOTBOOK_PAYMENT_CONFIRM_TIMEOUT_SECONDS": "1",
}


class Driver(Protocol):
    """A gateway other than the sandbox process (tests/e2e/gateway_worlds.py)."""

    @property
    def url(self) -> str:
        """Where the gateway's API and pages are."""
        ...

    def pay_fields(self, method: str) -> dict[str, Any]:
        """What a payment of `method` adds to its request (a card token, for Omise)."""
        ...

    async def settle(self, world: World, payment: dict[str, Any], outcome: str) -> None:
        """The money moves (or is declined) there, and its signed webhook reaches the
        server."""
        ...


@dataclass
class World:
    """A server and its gateway, and clients for each."""

    launch: Launcher
    database_url: str
    server: Server
    gateway: Server
    api: httpx.AsyncClient
    sandbox: httpx.AsyncClient
    env: dict[str, str]
    driver: Driver | None = None  # None: the sandbox gateway process

    async def restart_server(self, *, kill: bool) -> None:
        """Stop the server (SIGKILL with `kill`) and start it again on the same port."""
        port = self.server.port
        await self.launch.stop(self.server.process, kill=kill)
        self.server = await self.launch.server(self.database_url, port=port, **self.env)


async def open_world(launch: Launcher, database_url: str, **env: str) -> World:
    gateway = await launch.sandbox()
    settings = {**SERVER_ENV, "SLOTBOOK_SANDBOX_GATEWAY_URL": f"{gateway.url}/sandbox", **env}
    server = await launch.server(database_url, **settings)
    return World(
        launch,
        database_url,
        server,
        gateway,
        client_for(server.url, timeout=WAIT_SECONDS),
        httpx.AsyncClient(base_url=gateway.url, timeout=WAIT_SECONDS),
        settings,
    )


def gateway_url(world: World) -> str:
    return world.driver.url if world.driver else world.gateway.url


async def close_world(world: World) -> None:
    await world.api.aclose()
    await world.sandbox.aclose()


async def catalog_of(world: World, name: str = "spa", slots: int = 8) -> Catalog:
    return await open_catalog(world.api, name, hourly(tomorrow_at(6), slots), price_minor=45_000)


async def customer(world: World, name: str = "customer") -> Account:
    return await sign_up_account(world.api, "customer", name)


async def admin(world: World) -> dict[str, str]:
    """An admin made with the command line (as operators do), logged in: its headers."""
    email = f"admin-{uuid.uuid4().hex[:8]}@example.com"
    done = await asyncio.to_thread(
        subprocess.run,
        [str(SLOTBOOK), "create-admin", "--email", email, "--password", PASSWORD],
        env=service_env(world.database_url, world.env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    login = await world.api.post("/v1/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


async def hold(world: World, who: Account, slot_id: str) -> dict[str, Any]:
    answer = await world.api.post("/v1/holds", json={"slot_id": slot_id}, headers=who.headers)
    assert answer.status_code == 201, answer.text
    taken: dict[str, Any] = answer.json()
    return taken


async def pay(world: World, who: Account, hold_id: str, method: str = "card") -> dict[str, Any]:
    body = {"method": method, **(world.driver.pay_fields(method) if world.driver else {})}
    answer = await world.api.post(f"/v1/holds/{hold_id}/payments", json=body, headers=who.headers)
    assert answer.status_code == 201, answer.text
    started: dict[str, Any] = answer.json()
    return started


async def complete(
    world: World, payment: dict[str, Any], outcome: str = "succeeded", **webhook: Any
) -> None:
    """The customer's money moves (or is declined) at the gateway: the sandbox's control
    call (shaping its webhook's delivery), or the driver's way at another gateway."""
    if world.driver is not None:
        assert not webhook, "only the sandbox shapes its webhook deliveries"
        await world.driver.settle(world, payment, outcome)
        return
    body: dict[str, Any] = {"outcome": outcome}
    if webhook:
        body["webhook"] = webhook
    answer = await world.sandbox.post(
        f"/sandbox/payments/{payment['gateway_payment_id']}/complete", json=body
    )
    assert answer.status_code == 200, answer.text


async def payment_of(world: World, who: Account, payment_id: str, wait: float = 0) -> Any:
    answer = await world.api.get(
        f"/v1/payments/{payment_id}", params={"wait": wait}, headers=who.headers
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


async def until_payment(world: World, who: Account, payment_id: str, status: str) -> Any:
    """The payment once it reads `status` (each wait answers at its next change)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        payment = await payment_of(world, who, payment_id, wait=2)
        if payment["status"] == status:
            return payment
        if time.monotonic() > deadline:
            raise AssertionError(f"payment still {payment['status']}, not {status}")


async def until(check: Any, what: str) -> Any:
    """Poll an async check (a few times a second) until it answers truthy, within a deadline."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not (found := await check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for {what}")
        await asyncio.sleep(POLL_SECONDS)
    return found


async def hold_of(world: World, who: Account, hold_id: str) -> Any:
    answer = await world.api.get(f"/v1/holds/{hold_id}", headers=who.headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def summary(world: World, admin: dict[str, str]) -> Any:
    answer = await world.api.get("/v1/admin/ledger/summary", headers=admin)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def bookings_of(world: World, who: dict[str, str]) -> list[Any]:
    answer = await world.api.get("/v1/bookings", headers=who)
    assert answer.status_code == 200, answer.text
    found: list[Any] = answer.json()["bookings"]
    return found
