"""The use case's payment outcomes, end to end: a real server and its gateway, the
gateway's signed webhooks over HTTP; PostgreSQL (the happy path on SQLite too). Each runs
over the sandbox gateway process and the Omise stand-in, and those that Stripe Checkout
can produce over the Stripe stand-in too: a card declined on Stripe's page sends no event
(the customer tries again there), and a session slotbook expired can no longer be paid
(its paid-just-before race is in tests/integration/test_gateway_flows.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from io import BytesIO
from typing import Any

import pytest
import zxingcpp
from PIL import Image

from tests.e2e import payment_flows as pf
from tests.e2e.gateway_worlds import GATEWAYS, gateway_world
from tests.e2e.servers import Launcher

PRICE = 45_000
NOT_STRIPE = ("sandbox", "omise")

pytestmark = pytest.mark.e2e


@pytest.fixture
def gateway_name() -> str:
    """The gateway taking both methods (a test parametrises it)."""
    return "sandbox"


@pytest.fixture
async def world(launch: Launcher, gateway_name: str) -> AsyncIterator[pf.World]:
    async with gateway_world(launch, await launch.postgres(), gateway_name) as w:
        yield w


@pytest.mark.parametrize(
    ("backend", "gateway_name"),
    [
        *(pytest.param("postgresql", g, marks=pytest.mark.postgres) for g in GATEWAYS),
        pytest.param("sqlite", "sandbox"),
    ],
)
async def test_pay_by_card_confirm_balanced_in_escrow_until_the_start(
    launch: Launcher, backend: str, gateway_name: str
) -> None:
    """Paid and confirmed; the provider cannot take the money before the slot (tomorrow)
    starts, so it stays in escrow. A server process reads the system clock, which no
    test moves: completing once the slot has started is in test_http_booking_actions.py
    and test_http_payments.py, in process on a clock moved by hand."""
    url = await launch.postgres() if backend == "postgresql" else await launch.sqlite()
    async with gateway_world(launch, url, gateway_name) as world:
        catalog = await pf.catalog_of(world)
        alice = await pf.customer(world, "alice")
        held = await pf.hold(world, alice, catalog.slot_ids[0])
        payment = await pf.pay(world, alice, held["id"])
        assert payment["gateway"] == gateway_name
        assert payment["redirect_url"].startswith(pf.gateway_url(world))
        await pf.complete(world, payment)  # its webhook travels to the server

        paid = await pf.until_payment(world, alice, payment["id"], "succeeded")
        assert paid["amount_minor"] == PRICE
        confirmed = await pf.hold_of(world, alice, held["id"])
        assert confirmed["status"] == "confirmed"
        booking_id = confirmed["booking_id"]
        booking = (await world.api.get(f"/v1/bookings/{booking_id}", headers=alice.headers)).json()
        assert booking["escrow"] == {"status": "held", "amount_minor": PRICE}

        early = await world.api.post(
            f"/v1/bookings/{booking_id}/complete", headers=catalog.provider.headers
        )
        assert early.status_code == 409, early.text
        assert early.json()["type"] == "/problems/booking-not-started"
        totals = await pf.summary(world, await pf.admin(world))
        assert totals["escrow_held_minor"] == PRICE
        assert totals["released_to_providers_minor"] == 0
        assert totals["platform_fees_minor"] == 0
        assert totals["payments_succeeded_minor"] == PRICE
        assert totals["balanced"] is True


@pytest.mark.postgres
async def test_the_promptpay_page_shows_a_qr_for_the_price(world: pf.World) -> None:
    catalog = await pf.catalog_of(world)
    alice = await pf.customer(world, "alice")
    held = await pf.hold(world, alice, catalog.slot_ids[0])
    payment = await pf.pay(world, alice, held["id"], method="promptpay")
    page = await world.sandbox.get(payment["redirect_url"])
    assert page.status_code == 200
    assert "qr.png" in page.text
    image = await world.sandbox.get(payment["redirect_url"].rstrip("/") + "/qr.png")
    found = zxingcpp.read_barcodes(Image.open(BytesIO(image.content)))
    payload = found[0].text
    assert "A000000677010111" in payload  # PromptPay's application id
    assert "5303764" in payload  # THB
    assert f"54{len('450.00'):02d}450.00" in payload


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("gateway_name", "method"),
    [("sandbox", "card"), ("omise", "card"), ("omise", "promptpay"), ("stripe", "promptpay")],
)
async def test_a_declined_payment_releases_the_hold_and_moves_no_money(
    world: pf.World, method: str
) -> None:
    catalog = await pf.catalog_of(world)
    alice = await pf.customer(world, "alice")
    held = await pf.hold(world, alice, catalog.slot_ids[0])
    payment = await pf.pay(world, alice, held["id"], method=method)
    await pf.complete(world, payment, "declined")

    await pf.until_payment(world, alice, payment["id"], "failed")
    released = await pf.hold_of(world, alice, held["id"])
    assert (released["status"], released["release_reason"]) == ("released", "payment_failed")
    slot = (await world.api.get(f"/v1/slots/{catalog.slot_ids[0]}")).json()
    assert slot["status"] == "available"
    assert await pf.bookings_of(world, alice.headers) == []
    totals = await pf.summary(world, await pf.admin(world))
    assert totals["payments_succeeded_minor"] == 0
    assert totals["balanced"] is True


@pytest.mark.postgres
@pytest.mark.parametrize("gateway_name", NOT_STRIPE)
async def test_no_webhook_by_the_deadline_releases_then_the_late_success_is_refunded(
    world: pf.World,
) -> None:
    catalog = await pf.catalog_of(world)
    alice = await pf.customer(world, "alice")
    held = await pf.hold(world, alice, catalog.slot_ids[0])
    payment = await pf.pay(world, alice, held["id"])
    back = await world.api.post(f"/v1/payments/{payment['id']}/returned", headers=alice.headers)
    assert back.status_code == 202

    await pf.until_payment(world, alice, payment["id"], "cancelled")
    released = await pf.hold_of(world, alice, held["id"])
    assert released["release_reason"] == "payment_unconfirmed"

    await pf.complete(world, payment)  # the bank was slow: the money moved after all
    refunded = await pf.until_payment(world, alice, payment["id"], "refunded")
    assert refunded["refund"]["amount_minor"] == PRICE
    assert await pf.bookings_of(world, alice.headers) == []
    totals = await pf.summary(world, await pf.admin(world))
    assert (totals["refunded_minor"], totals["balanced"]) == (PRICE, True)


@pytest.mark.postgres
@pytest.mark.parametrize("gateway_name", NOT_STRIPE)
async def test_with_confirm_if_free_a_late_success_books_the_free_slot(
    launch: Launcher, gateway_name: str
) -> None:
    url = await launch.postgres()
    policy = {"SLOTBOOK_LATE_PAYMENT_POLICY": "confirm_if_free"}
    async with gateway_world(launch, url, gateway_name, **policy) as world:
        catalog = await pf.catalog_of(world)
        alice = await pf.customer(world, "alice")
        held = await pf.hold(world, alice, catalog.slot_ids[0])
        payment = await pf.pay(world, alice, held["id"])
        await world.api.post(f"/v1/payments/{payment['id']}/returned", headers=alice.headers)
        await pf.until_payment(world, alice, payment["id"], "cancelled")

        await pf.complete(world, payment)
        await pf.until_payment(world, alice, payment["id"], "succeeded")
        [booking] = await pf.bookings_of(world, alice.headers)
        assert (booking["slot_id"], booking["status"]) == (catalog.slot_ids[0], "confirmed")
        slot = (await world.api.get(f"/v1/slots/{catalog.slot_ids[0]}")).json()
        assert slot["status"] == "booked"


@pytest.mark.postgres
@pytest.mark.parametrize("gateway_name", NOT_STRIPE)
async def test_a_success_after_the_hold_ran_out_is_refunded_and_the_next_hold_kept(
    launch: Launcher, gateway_name: str
) -> None:
    url = await launch.postgres()
    async with gateway_world(launch, url, gateway_name, SLOTBOOK_HOLD_TTL_SECONDS="1") as world:
        catalog = await pf.catalog_of(world)
        alice, bob = await pf.customer(world, "alice"), await pf.customer(world, "bob")
        held = await pf.hold(world, alice, catalog.slot_ids[0])
        payment = await pf.pay(world, alice, held["id"])

        async def ran_out() -> bool:
            seen = await pf.hold_of(world, alice, held["id"])
            return bool(seen["release_reason"] == "expired")

        await pf.until(ran_out, "the hold to run out")
        theirs = await pf.hold(world, bob, catalog.slot_ids[0])
        await pf.complete(world, payment)

        await pf.until_payment(world, alice, payment["id"], "refunded")
        kept = await pf.hold_of(world, bob, theirs["id"])
        assert kept["status"] in ("active", "released")  # untouched by the late payment
        assert kept["release_reason"] in (None, "expired")  # (its own 1 s TTL may pass)
        assert await pf.bookings_of(world, alice.headers) == []


@pytest.mark.postgres
@pytest.mark.parametrize("gateway_name", NOT_STRIPE)
async def test_switching_method_with_both_paid_gives_one_booking_and_one_refund(
    world: pf.World,
) -> None:
    catalog = await pf.catalog_of(world)
    alice = await pf.customer(world, "alice")
    held = await pf.hold(world, alice, catalog.slot_ids[0])
    card = await pf.pay(world, alice, held["id"], method="card")
    promptpay = await pf.pay(world, alice, held["id"], method="promptpay")
    await pf.complete(world, card)  # paid just before the cancellation reached the gateway
    await pf.complete(world, promptpay)

    # the two webhooks race each other: whichever lands first books, the other is refunded
    async def settled() -> dict[str, Any] | None:
        found = {p["status"]: p for p in [await pf.payment_of(world, alice, card["id"])]}
        found |= {p["status"]: p for p in [await pf.payment_of(world, alice, promptpay["id"])]}
        return found if set(found) == {"succeeded", "refunded"} else None

    both = await pf.until(settled, "one payment booked and the other refunded")
    assert both["succeeded"]["refund"] is None
    assert both["refunded"]["refund"]["amount_minor"] == PRICE
    [booking] = await pf.bookings_of(world, alice.headers)
    assert booking["payment_id"] == both["succeeded"]["id"]
    totals = await pf.summary(world, await pf.admin(world))
    assert (totals["escrow_held_minor"], totals["refunded_minor"]) == (PRICE, PRICE)
    assert totals["balanced"] is True


@pytest.mark.postgres
@pytest.mark.parametrize("gateway_name", GATEWAYS)
async def test_another_customers_payment_and_booking_are_not_found(world: pf.World) -> None:
    catalog = await pf.catalog_of(world)
    alice, mallory = await pf.customer(world, "alice"), await pf.customer(world, "mallory")
    held = await pf.hold(world, alice, catalog.slot_ids[0])
    payment = await pf.pay(world, alice, held["id"])
    await pf.complete(world, payment)
    await pf.until_payment(world, alice, payment["id"], "succeeded")
    booking_id = (await pf.hold_of(world, alice, held["id"]))["booking_id"]
    for answer in (
        await world.api.get(f"/v1/payments/{payment['id']}", headers=mallory.headers),
        await world.api.get(f"/v1/bookings/{booking_id}", headers=mallory.headers),
        await world.api.post(f"/v1/bookings/{booking_id}/cancel", headers=mallory.headers),
        await world.api.get(f"/v1/holds/{held['id']}", headers=mallory.headers),
    ):
        assert answer.status_code == 404, answer.text


async def test_the_built_in_sandbox_takes_a_card_as_make_run_serves_it(launch: Launcher) -> None:
    """No gateway settings at all: the server serves the sandbox itself, at its own
    address, and the hosted page's card form pays."""
    server = await launch.server(await launch.sqlite(), own_addresses=False)
    api = pf.client_for(server.url, timeout=pf.WAIT_SECONDS)
    world = pf.World(launch, "", server, server, api, api, {})
    try:
        catalog = await pf.catalog_of(world)
        alice = await pf.customer(world, "alice")
        held = await pf.hold(world, alice, catalog.slot_ids[0])
        payment = await pf.pay(world, alice, held["id"])
        assert payment["redirect_url"].startswith(f"{server.url}/sandbox/pay/")
        card = {"card_number": "4242 4242 4242 4242", "expiry": "12/30", "cvc": "123"}
        paid = await api.post(payment["redirect_url"] + "/card", data=card)
        assert paid.status_code == 303
        assert paid.headers["location"] == f"{server.url}/v1/payments/{payment['id']}"
        await pf.until_payment(world, alice, payment["id"], "succeeded")
    finally:
        await api.aclose()
