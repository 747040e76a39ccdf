"""A person paying through Omise in a browser: a real `slotbook serve` with Omise taking
both methods, talking over loopback to a stand-in of Omise's API, its Omise.js and its
3-D Secure page. A declined card is shown on slotbook's card page with the hold kept;
another card passes 3-D Secure and its signed `charge.complete` confirms the booking;
PromptPay in a new hold shows the charge's QR on slotbook's own page, which moves on by
itself once the payment's webhook arrives."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, expect

from tests.e2e import payment_flows as pf
from tests.e2e.browser import chromium, new_page, provider_with_slots, shoot
from tests.e2e.browser import sign_up_in_browser as sign_up
from tests.e2e.gateway_worlds import StandInWorld, gateway_world
from tests.e2e.servers import Launcher
from tests.e2e.test_browser_booking import open_provider
from tests.omise_stand_in import OmiseStandIn, omise_signed

pytestmark = pytest.mark.e2e


@pytest.fixture
async def omise(launch: Launcher) -> AsyncIterator[tuple[pf.World, OmiseStandIn]]:
    url = await launch.sqlite()
    confirm = {"SLOTBOOK_PAYMENT_CONFIRM_TIMEOUT_SECONDS": "5"}
    async with gateway_world(launch, url, "omise", **confirm) as world:
        assert isinstance(world, StandInWorld)
        yield world, world.omise


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as b:
        yield b


async def fill_card(page: Page, number: str) -> None:
    await page.get_by_label("Name on the card").fill("Chai Prasert")
    await page.get_by_label("Card number").fill(number)
    await page.get_by_label("Expiry month (MM)").fill("12")
    await page.get_by_label("Expiry year (YYYY)").fill("2034")
    await page.get_by_label("Security code").fill("123")


async def test_card_through_omise_js_and_3ds_then_promptpay_by_qr(
    omise: tuple[pf.World, OmiseStandIn], browser: Browser
) -> None:
    world, stand_in = omise
    await provider_with_slots(world.api, "Ari Omise Spa")
    page = await new_page(browser, world.server.url)
    await page.goto("/")
    await sign_up(page, "Chai")
    await open_provider(page, "Ari Omise Spa")
    await page.get_by_role("button", name=re.compile(r"^Book .* at 09:00")).click()
    await page.get_by_label("Card").check()
    await page.get_by_role("button", name="Pay now").click()

    await expect(page.get_by_role("heading", level=1)).to_have_text("Pay by card")
    await fill_card(page, "4242 4242 4242 4241")  # a typo: Omise.js refuses it
    await page.get_by_role("button", name=re.compile("^Pay ")).click()
    await expect(page.get_by_role("alert")).to_have_text("number is invalid")
    await fill_card(page, "4111 1111 1114 0011")  # insufficient funds
    await page.get_by_role("button", name=re.compile("^Pay ")).click()
    await expect(page.get_by_role("alert")).to_contain_text("The card was not accepted")
    await shoot(page, "19-omise-card-refused")
    await fill_card(page, "4242 4242 4242 4242")
    await page.get_by_role("button", name=re.compile("^Pay ")).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("You are booked")
    # the card's digits went to Omise.js's vault only, never to slotbook's server
    charged = [c for c in stand_in.charges.values() if c["status"] == "successful"]
    assert len(charged) == 1
    assert str(charged[0]["metadata"]["payment_id"])
    # (the whole number: four digits alone turn up by chance inside the ids charged)
    sent = [s.body.decode(errors="replace") for s in stand_in.seen]
    assert any("tokn_test_" in body for body in sent)
    assert not [body for body in sent if re.search(r"4242\D?4242\D?4242\D?4242", body)]

    # PromptPay in a new hold: slotbook's own page shows Omise's QR image
    await page.goto("/")
    await open_provider(page, "Ari Omise Spa")
    await page.get_by_role("button", name=re.compile(r"^Book .* at 10:00")).click()
    await page.get_by_label("PromptPay").check()
    await page.get_by_role("button", name="Pay now").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Scan to pay with PromptPay")
    qr = page.get_by_test_id("promptpay-qr")
    await expect(qr).to_be_visible()
    assert await qr.evaluate("img => img.naturalWidth") > 0
    await shoot(page, "20-omise-promptpay-qr")
    (charge_id,) = [c["id"] for c in stand_in.charges.values() if c.get("source")]
    body = stand_in.event("charge.complete", stand_in.complete(charge_id))  # the bank app paid
    answer = await world.api.post(
        "/v1/webhooks/omise", content=body, headers=omise_signed(body, at=int(time.time()))
    )
    assert answer.status_code == 200, answer.text
    await expect(page.get_by_role("heading", level=1)).to_have_text("You are booked")
