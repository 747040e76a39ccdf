"""Webhooks end to end: only a correctly signed, fresh event is read; duplicates and any
order give what a single, orderly delivery gives (real server, real sandbox process)."""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from standardwebhooks import Webhook

from tests.e2e import payment_flows as pf
from tests.e2e.booking import Account, hourly, open_catalog, tomorrow_at
from tests.e2e.servers import WEBHOOK_SECRET, Launcher

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]
FLOWS = 100
COPIES = 5


@pytest.fixture
async def world(launch: Launcher) -> AsyncIterator[pf.World]:
    w = await pf.open_world(launch, await launch.postgres())
    yield w
    await pf.close_world(w)


def signed(
    body: bytes, *, secret: str = WEBHOOK_SECRET, age_s: float = 0, msg_id: str = ""
) -> dict[str, str]:
    msg_id = msg_id or f"evt_{uuid.uuid4().hex}"
    at = datetime.now(UTC) - timedelta(seconds=age_s)
    signature = Webhook(secret).sign(msg_id, at, body.decode())
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
    }


def event_body(msg_id: str, payment: dict[str, Any], kind: str = "payment.succeeded") -> bytes:
    data = {
        "id": payment["gateway_payment_id"],
        "reference": payment["id"],
        "status": kind.split(".")[1],
        "amount_minor": payment["amount_minor"],
        "currency": payment["currency"],
        "method": payment["method"],
    }
    event = {"id": msg_id, "type": kind, "created_at": "2026-01-01T00:00:00Z"}
    return json.dumps({**event, "data": {"payment": data}}).encode()


async def test_only_a_signed_fresh_webhook_is_read(world: pf.World) -> None:
    catalog = await pf.catalog_of(world)
    alice = await pf.customer(world, "alice")
    held = await pf.hold(world, alice, catalog.slot_ids[0])
    payment = await pf.pay(world, alice, held["id"])
    msg_id = f"evt_{uuid.uuid4().hex}"
    body = event_body(msg_id, payment)
    other = event_body(msg_id, payment, "payment.failed")
    forged_secret = "whsec_" + "Zm9yZ2VkLXNlY3JldC1mb3ItdGhlLXRlc3RzLTEyMzQ="
    headers = signed(body, msg_id=msg_id)
    attempts = [
        (body, signed(body, secret=forged_secret, msg_id=msg_id), 401),  # forged
        (body, signed(body, age_s=400, msg_id=msg_id), 401),  # stale
        (body, signed(body, age_s=-400, msg_id=msg_id), 401),  # from the future
        (other, headers, 401),  # a replayed id with another body
        (body, {"content-type": "application/json"}, 401),  # no signature at all
        (b"not json", signed(b"not json"), 400),  # signed, but no event
    ]
    for content, sent, status in attempts:
        answer = await world.api.post("/v1/webhooks/sandbox", content=content, headers=sent)
        assert answer.status_code == status, (status, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
    unchanged = await pf.payment_of(world, alice, payment["id"])
    assert unchanged["status"] == "pending"
    assert (await pf.hold_of(world, alice, held["id"]))["status"] == "active"

    accepted = await world.api.post("/v1/webhooks/sandbox", content=body, headers=headers)
    assert accepted.status_code == 200, accepted.text
    again = await world.api.post("/v1/webhooks/sandbox", content=body, headers=headers)
    assert again.status_code == 200
    assert (await pf.payment_of(world, alice, payment["id"]))["status"] == "succeeded"
    assert len(await pf.bookings_of(world, alice.headers)) == 1


async def _flows(world: pf.World, seed: int, copies: int) -> dict[str, Any]:
    """FLOWS customers, each on its own slot, each with a scripted outcome; every webhook
    delivered `copies` times with random delays. What the service made of it all."""
    rng = random.Random(seed)
    choices = ("paid", "declined", "switched_both", "switched_second")
    scripts = [rng.choice(choices) for _ in range(FLOWS)]
    delays = [rng.randint(0, 1500) for _ in range(FLOWS)]
    catalog = await open_catalog(
        world.api, f"flows{copies}", hourly(tomorrow_at(0), FLOWS), price_minor=45_000
    )
    people = [await pf.customer(world, f"c{i}") for i in range(FLOWS)]
    payments: list[tuple[Account, str]] = []

    async def run(i: int, who: Account, script: str) -> None:
        held = await pf.hold(world, who, catalog.slot_ids[i])
        first = await pf.pay(world, who, held["id"])
        payments.append((who, first["id"]))
        shaping = {"duplicates": copies - 1, "delay_ms": delays[i]}
        if script in ("paid", "declined"):
            outcome = "succeeded" if script == "paid" else "declined"
            await pf.complete(world, first, outcome, **shaping)
            return
        second = await pf.pay(world, who, held["id"], method="promptpay")
        payments.append((who, second["id"]))
        if script == "switched_both":
            await pf.complete(world, first, **shaping)
        await pf.complete(world, second, **shaping)

    await asyncio.gather(
        *(run(i, p, s) for i, (p, s) in enumerate(zip(people, scripts, strict=True)))
    )
    admin = await pf.admin(world)

    async def settled() -> bool:
        if (await pf.summary(world, admin))["refunds_pending_minor"]:
            return False
        for who, payment_id in payments:
            if (await pf.payment_of(world, who, payment_id))["status"] == "pending":
                return False
        return True

    await pf.until(settled, "every flow to settle")
    bookings = [sorted(b["status"] for b in await pf.bookings_of(world, p.headers)) for p in people]
    return {"scripts": scripts, "bookings": bookings, "ledger": await pf.summary(world, admin)}


async def test_five_shuffled_copies_of_every_webhook_change_nothing(launch: Launcher) -> None:
    once = await pf.open_world(launch, await launch.postgres())
    often = await pf.open_world(launch, await launch.postgres())
    try:  # two worlds of their own (servers, gateways, databases): side by side
        single, repeated = await asyncio.gather(
            _flows(once, seed=7, copies=1), _flows(often, seed=7, copies=COPIES)
        )
    finally:
        await pf.close_world(once)
        await pf.close_world(often)
    assert repeated == single
    assert single["ledger"]["balanced"] is True
    expected_bookings = sum(s != "declined" for s in single["scripts"])
    assert sum(len(b) for b in single["bookings"]) == expected_bookings
