"""A real `slotbook serve` configured for Stripe (card) and Omise (PromptPay), talking over
loopback to stand-ins of their APIs: paid there, the provider's signed webhook posted to
the server confirms the booking; a released hold's Checkout Session is expired by the
server itself; a PromptPay QR paid after its hold was released is refunded through Omise.
PostgreSQL."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.e2e import payment_flows as pf
from tests.e2e.gateway_worlds import StandInWorld, gateway_world
from tests.e2e.servers import Launcher
from tests.omise_stand_in import OmiseStandIn, omise_signed
from tests.stripe_stand_in import StripeStandIn, stripe_signed

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]
PRICE = 45_000


@dataclass
class Live:
    world: pf.World
    stripe: StripeStandIn
    omise: OmiseStandIn


@pytest.fixture
async def live(launch: Launcher) -> AsyncIterator[Live]:
    """Stripe takes cards, Omise PromptPay."""
    url = await launch.postgres()
    async with gateway_world(launch, url, "stripe", SLOTBOOK_PROMPTPAY_GATEWAY="omise") as world:
        assert isinstance(world, StandInWorld)
        yield Live(world, world.stripe, world.omise)


async def post_webhook(live: Live, gateway: str, headers: dict[str, str], body: bytes) -> None:
    answer = await live.world.api.post(f"/v1/webhooks/{gateway}", content=body, headers=headers)
    assert answer.status_code == 200, answer.text


async def started(live: Live, method: str) -> tuple[pf.Account, dict[str, Any], dict[str, Any]]:
    catalog = await pf.catalog_of(live.world)
    alice = await pf.customer(live.world, "alice")
    held = await pf.hold(live.world, alice, catalog.slot_ids[0])
    payment = await pf.pay(live.world, alice, held["id"], method=method)
    return alice, held, payment


async def test_card_paid_at_stripe_confirms_the_booking(live: Live) -> None:
    alice, held, payment = await started(live, "card")
    assert payment["gateway"] == "stripe"
    session_id = payment["gateway_payment_id"]
    assert payment["redirect_url"] == f"{live.stripe.url}/c/pay/{session_id}"
    live.stripe.pay(session_id)
    body = live.stripe.event("checkout.session.completed", session_id)
    await post_webhook(live, "stripe", stripe_signed(body, at=int(time.time())), body)

    paid = await pf.until_payment(live.world, alice, payment["id"], "succeeded")
    assert paid["amount_minor"] == PRICE
    assert (await pf.hold_of(live.world, alice, held["id"]))["status"] == "confirmed"
    forged = stripe_signed(body, at=int(time.time()), secrets=("whsec_forged",))
    answer = await live.world.api.post("/v1/webhooks/stripe", content=body, headers=forged)
    assert answer.status_code == 401


async def test_a_released_hold_expires_its_checkout_session(live: Live) -> None:
    alice, held, payment = await started(live, "card")
    released = await live.world.api.delete(f"/v1/holds/{held['id']}", headers=alice.headers)
    assert released.status_code == 200, released.text
    session_id = payment["gateway_payment_id"]

    async def expired() -> bool:
        return bool(live.stripe.sessions[session_id]["status"] == "expired")

    await pf.until(expired, "the Checkout Session expired by the server")
    await pf.until_payment(live.world, alice, payment["id"], "cancelled")


async def test_promptpay_at_omise_paid_in_time_then_one_paid_late_is_refunded(
    live: Live,
) -> None:
    alice, held, payment = await started(live, "promptpay")
    assert payment["gateway"] == "omise"
    charge_id = payment["gateway_payment_id"]
    charge = live.omise.charges[charge_id]
    assert payment["redirect_url"] == charge["source"]["scannable_code"]["image"]["download_uri"]

    released = await live.world.api.delete(f"/v1/holds/{held['id']}", headers=alice.headers)
    assert released.status_code == 200, released.text
    await pf.until_payment(live.world, alice, payment["id"], "cancelled")
    # the QR was on the customer's screen: the bank app pays it all the same
    body = live.omise.event("charge.complete", live.omise.complete(charge_id))
    await post_webhook(live, "omise", omise_signed(body, at=int(time.time())), body)

    refunded = await pf.until_payment(live.world, alice, payment["id"], "refunded")
    assert refunded["refund"]["amount_minor"] == PRICE
    assert live.omise.charges[charge_id]["refunded_amount"] == PRICE
    refund_calls = [s for s in live.omise.seen if s.path.endswith("/refunds")]
    assert {json.loads(s.body)["amount"] for s in refund_calls} == {PRICE}
    assert await pf.bookings_of(live.world, alice.headers) == []
