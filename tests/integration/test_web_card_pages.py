"""Slotbook's own payment pages for a gateway without hosted ones (Omise), no browser: the
card page whose Omise.js makes the token (the card's fields never posted to slotbook),
only a well-formed token passed on, a refused card shown on the card page with the hold
kept; PromptPay shown as the charge's QR image until the payment is settled."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import httpx
import pytest

from slotbook.config import Settings
from slotbook.domain.gateway import EventKind, GatewayEvent, GatewayPaymentStatus
from slotbook.domain.states import HoldStatus
from slotbook.service_layer import holds
from slotbook.service_layer import payment_outcomes as outcomes
from slotbook.service_layer.context import Context
from tests import builders
from tests.conftest import START
from tests.fakes import FakeGateway
from tests.integration.test_web_saved_pages import log_in

PUBLIC_KEY = "pkey_test_slotbook000000000000"
OMISE_JS = "https://js.omise.test/omise.js"
TOKEN = "tokn_test_5g5mep9cj8q5z5k4vwz"
NAMED = re.compile(r'<input[^>]*\bname="(\w+)"')


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"omise_public_key": PUBLIC_KEY, "omise_js_url": OMISE_JS})


async def held(ctx: Context, client: httpx.AsyncClient) -> tuple[uuid.UUID, uuid.UUID, str]:
    """A customer logged in on `client` with a live hold: the customer, the hold, the CSRF."""
    _, slots = await builders.provider_with_slots(ctx, first=START + timedelta(days=1))
    alice = await builders.customer(ctx, "alice")
    token = await log_in(client, alice.email)
    booked = await client.post("/book", data={"slot_id": str(slots[0].id), "csrf": token})
    assert booked.status_code == 303
    return alice.id, uuid.UUID(booked.headers["location"].removeprefix("/holds/")), token


async def test_a_card_goes_through_omise_js_and_only_its_token_reaches_the_gateway(
    ctx: Context, client: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    gateway.takes_card_token = True
    _, hold_id, csrf = await held(ctx, client)
    chosen = await client.post(f"/holds/{hold_id}/pay", data={"method": "card", "csrf": csrf})
    assert (chosen.status_code, chosen.headers["location"]) == (303, f"/holds/{hold_id}/card")
    page = await client.get(f"/holds/{hold_id}/card")
    assert page.status_code == 200
    assert f'<script src="{OMISE_JS}"></script>' in page.text
    assert f'data-omise-key="{PUBLIC_KEY}"' in page.text
    assert 'data-omise="number"' in page.text
    assert sorted(NAMED.findall(page.text)) == ["card_token", "csrf", "csrf", "method"]
    assert gateway.created == {}

    paid = await client.post(
        f"/holds/{hold_id}/pay", data={"method": "card", "card_token": TOKEN, "csrf": csrf}
    )
    assert paid.status_code == 303
    (gid, created), *_ = gateway.created.items()
    assert paid.headers["location"] == f"https://fake.example/pay/{gid}"  # 3-D Secure
    assert created.card_token == TOKEN


@pytest.mark.parametrize(
    ("token", "said"),
    [
        ("tokn test<script>", "could not be read"),
        ("t" * 129, "could not be read"),
        ("tokn_test_declined", "not accepted"),
    ],
)
async def test_a_card_that_is_refused_or_unreadable_shows_the_card_page_again(
    ctx: Context, client: httpx.AsyncClient, gateway: FakeGateway, token: str, said: str
) -> None:
    gateway.takes_card_token = True
    gateway.declined_tokens = frozenset({"tokn_test_declined"})
    customer_id, hold_id, csrf = await held(ctx, client)
    answer = await client.post(
        f"/holds/{hold_id}/pay", data={"method": "card", "card_token": token, "csrf": csrf}
    )
    assert answer.status_code == 422
    assert said in answer.text
    assert "data-omise-key" in answer.text
    hold = await holds.get_hold(ctx, hold_id=hold_id, customer_id=customer_id)
    assert hold.status is HoldStatus.ACTIVE  # the customer tries another card


async def test_a_hosted_page_gateway_has_no_card_page_and_ignores_a_posted_token(
    ctx: Context, client: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    _, hold_id, csrf = await held(ctx, client)
    page = await client.get(f"/holds/{hold_id}/card")
    assert (page.status_code, page.headers["location"]) == (303, f"/holds/{hold_id}")
    paid = await client.post(
        f"/holds/{hold_id}/pay", data={"method": "card", "card_token": TOKEN, "csrf": csrf}
    )
    assert paid.headers["location"].startswith("https://fake.example/pay/")
    (created,) = gateway.created.values()
    assert created.card_token is None


async def test_promptpay_shows_the_qr_image_until_the_payment_is_settled(
    ctx: Context, client: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    gateway.promptpay_qr_image = True
    customer_id, hold_id, csrf = await held(ctx, client)
    chosen = await client.post(f"/holds/{hold_id}/pay", data={"method": "promptpay", "csrf": csrf})
    assert chosen.status_code == 303
    qr_page = chosen.headers["location"]
    payment_id = uuid.UUID(qr_page.split("/")[2])
    page = await client.get(qr_page)
    assert page.status_code == 200
    (gid,) = gateway.created
    assert f'src="https://fake.example/pay/{gid}"' in page.text
    assert f'data-wait-status="/payments/{payment_id}/status"' in page.text

    gateway.settle(gid, GatewayPaymentStatus.SUCCEEDED)
    event = GatewayEvent(
        event_id="evt_qr_paid",
        kind=EventKind.PAYMENT_SUCCEEDED,
        gateway_payment_id=gid,
        reference=payment_id,
        amount_minor=gateway.created[gid].amount_minor,
        currency="THB",
    )
    report = outcomes.Report(
        payment_id=None,
        gateway=gateway.name,
        gateway_payment_id=gid,
        reference=payment_id,
        amount_minor=event.amount_minor,
        event=event,
    )
    await outcomes.payment_succeeded(ctx, report)
    after = await client.get(qr_page)
    assert (after.status_code, after.headers["location"]) == (
        303,
        f"/payments/{payment_id}/result",
    )
    hold = await holds.get_hold(ctx, hold_id=hold_id, customer_id=customer_id)
    assert hold.status is HoldStatus.CONFIRMED
    result = await client.get(after.headers["location"])
    assert result.headers["location"] == f"/bookings/{hold.booking_id}"


async def test_a_hosted_page_gateway_shows_no_qr_page_of_slotbook(
    ctx: Context, client: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    _, hold_id, csrf = await held(ctx, client)
    chosen = await client.post(f"/holds/{hold_id}/pay", data={"method": "promptpay", "csrf": csrf})
    assert chosen.headers["location"].startswith("https://fake.example/pay/")  # its own page
    (gid,) = gateway.created
    payment_id = gateway.created[gid].reference
    page = await client.get(f"/payments/{payment_id}/qr")
    assert (page.status_code, page.headers["location"]) == (303, f"/holds/{hold_id}")


async def test_another_customers_card_qr_and_result_pages_are_not_found(
    ctx: Context, client: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    gateway.takes_card_token = gateway.promptpay_qr_image = True
    _, hold_id, csrf = await held(ctx, client)
    chosen = await client.post(f"/holds/{hold_id}/pay", data={"method": "promptpay", "csrf": csrf})
    qr_page = chosen.headers["location"]
    result_page = qr_page.removesuffix("/qr") + "/result"
    for path in (qr_page, result_page, f"/holds/{hold_id}/card"):
        assert (await client.get(path)).status_code == 200, path  # the owner's own
    mallory = await builders.customer(ctx, "mallory")
    await log_in(client, mallory.email)  # the same browser, now signed in as someone else
    for path in (qr_page, result_page, f"/holds/{hold_id}/card"):
        page = await client.get(path)
        assert page.status_code == 404, path
        assert "fake.example" not in page.text


async def test_the_waiting_pages_status_answers_problems_for_unknown_and_signed_out(
    ctx: Context, client: httpx.AsyncClient, gateway: FakeGateway
) -> None:
    gateway.promptpay_qr_image = True
    _, hold_id, csrf = await held(ctx, client)
    chosen = await client.post(f"/holds/{hold_id}/pay", data={"method": "promptpay", "csrf": csrf})
    payment_id = chosen.headers["location"].split("/")[2]
    first = await client.get(f"/payments/{payment_id}/status")
    assert (first.status_code, first.json()["final"]) == (200, False)

    unknown = await client.get(f"/payments/{uuid.uuid4()}/status")
    assert (unknown.status_code, unknown.headers["content-type"]) == (
        404,
        "application/problem+json",
    )
    assert unknown.json()["type"].endswith("/payment-not-found")
    client.cookies.clear()
    signed_out = await client.get(f"/payments/{payment_id}/status")
    assert (signed_out.status_code, signed_out.headers["content-type"]) == (
        401,
        "application/problem+json",
    )
