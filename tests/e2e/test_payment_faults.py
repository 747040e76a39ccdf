"""Faults around payments, end to end: the gateway down when a payment starts and when a
refund is due; the server killed between the gateway's success and the webhook's commit."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from tests.e2e import payment_flows as pf
from tests.e2e.servers import Launcher

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]
PRICE = 45_000


@pytest.fixture
async def world(launch: Launcher) -> AsyncIterator[pf.World]:
    w = await pf.open_world(launch, await launch.postgres())
    yield w
    await pf.close_world(w)


async def merchant_api(world: pf.World, mode: str) -> None:
    answer = await world.sandbox.put("/sandbox/control/merchant-api", json={"mode": mode})
    assert answer.status_code == 200, answer.text


async def test_the_gateway_down_at_the_start_answers_503_and_keeps_the_hold(
    world: pf.World,
) -> None:
    catalog = await pf.catalog_of(world)
    alice = await pf.customer(world, "alice")
    held = await pf.hold(world, alice, catalog.slot_ids[0])
    await merchant_api(world, "down")
    refused = await world.api.post(
        f"/v1/holds/{held['id']}/payments", json={"method": "card"}, headers=alice.headers
    )
    assert refused.status_code == 503, refused.text
    assert refused.json()["type"].endswith("/gateway-unavailable")
    assert refused.headers["retry-after"]
    assert (await pf.hold_of(world, alice, held["id"]))["status"] == "active"

    await merchant_api(world, "up")
    payment = await pf.pay(world, alice, held["id"])
    await pf.complete(world, payment)
    await pf.until_payment(world, alice, payment["id"], "succeeded")
    assert (await pf.hold_of(world, alice, held["id"]))["status"] == "confirmed"


async def test_a_refund_due_while_the_gateway_is_down_goes_through_once_it_is_back(
    world: pf.World,
) -> None:
    catalog = await pf.catalog_of(world)
    alice = await pf.customer(world, "alice")
    held = await pf.hold(world, alice, catalog.slot_ids[0])
    payment = await pf.pay(world, alice, held["id"])
    await pf.complete(world, payment)
    await pf.until_payment(world, alice, payment["id"], "succeeded")
    booking_id = (await pf.hold_of(world, alice, held["id"]))["booking_id"]

    await merchant_api(world, "down")
    cancelled = await world.api.post(f"/v1/bookings/{booking_id}/cancel", headers=alice.headers)
    assert cancelled.json()["escrow"]["status"] == "refunded"
    admin = await pf.admin(world)

    async def owed() -> bool:
        totals = await pf.summary(world, admin)
        return bool(totals["refunds_pending_minor"] == PRICE)

    await pf.until(owed, "the refund to be owed")
    assert (await pf.payment_of(world, alice, payment["id"]))["status"] == "succeeded"

    await merchant_api(world, "up")
    refunded = await pf.until_payment(world, alice, payment["id"], "refunded")
    assert refunded["refund"]["status"] == "succeeded"
    totals = await pf.summary(world, admin)
    assert (totals["refunded_minor"], totals["refunds_pending_minor"]) == (PRICE, 0)
    assert totals["balanced"] is True


async def until_waiting_on_a_lock(database_url: str) -> None:
    watcher = await asyncpg.connect(database_url)
    try:

        async def waiting() -> bool:
            count = await watcher.fetchval(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            return bool(count)

        await pf.until(waiting, "the webhook to wait on the slot's lock")
    finally:
        await watcher.close()


async def test_a_server_killed_before_the_webhook_commits_books_exactly_once(
    world: pf.World,
) -> None:
    catalog = await pf.catalog_of(world)
    alice = await pf.customer(world, "alice")
    held = await pf.hold(world, alice, catalog.slot_ids[0])
    payment = await pf.pay(world, alice, held["id"])

    blocker = await asyncpg.connect(world.database_url)
    try:
        async with blocker.transaction():  # the webhook's transaction will wait on the slot
            await blocker.execute(
                "SELECT 1 FROM slots WHERE id = $1 FOR UPDATE", catalog.slot_ids[0]
            )
            await pf.complete(world, payment)  # the gateway's success; its webhook arrives
            await until_waiting_on_a_lock(world.database_url)
            await world.restart_server(kill=True)  # SIGKILL: the webhook never commits
    finally:
        await blocker.close()

    confirmed = await pf.until_payment(world, alice, payment["id"], "succeeded")
    assert confirmed["status"] == "succeeded"  # the gateway redelivered to the new server
    assert len(await pf.bookings_of(world, alice.headers)) == 1
    totals = await pf.summary(world, await pf.admin(world))
    assert (totals["escrow_held_minor"], totals["balanced"]) == (PRICE, True)
