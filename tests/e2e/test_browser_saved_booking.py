"""A saved booking in a browser: saved for later on the provider's page, paid later from
"My bookings", confirmed; against a real `slotbook serve` and sandbox-gateway process."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, expect

from tests.e2e import payment_flows as pf
from tests.e2e.browser import chromium, new_page, pay_by_card, provider_with_slots, shoot
from tests.e2e.browser import sign_up_in_browser as sign_up
from tests.e2e.servers import Launcher

pytestmark = pytest.mark.e2e


@pytest.fixture
async def world(launch: Launcher) -> AsyncIterator[pf.World]:
    w = await pf.open_world(
        launch, await launch.sqlite(), SLOTBOOK_PAYMENT_CONFIRM_TIMEOUT_SECONDS="5"
    )
    yield w
    await pf.close_world(w)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as b:
        yield b


async def test_a_saved_booking_paid_later_is_confirmed(world: pf.World, browser: Browser) -> None:
    provider, _, _ = await provider_with_slots(world.api, "Phrom Phong Massage")
    page = await new_page(browser, world.server.url)
    await page.goto("/")
    await sign_up(page, "Dao")
    await page.goto(f"/providers/{provider.provider_id}")
    await page.get_by_role("button", name=re.compile(r"^Save for later: .* at 09:00, ")).click()
    await expect(page).to_have_url(re.compile(r"/me/bookings#saved$"))
    rows = page.get_by_test_id("saved-row")
    await expect(rows).to_have_count(1)
    await expect(rows).to_contain_text("Free now")
    await shoot(page, "15-saved-for-later")

    await rows.get_by_role("button", name=re.compile("^Confirm and pay")).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("This time is held for you")
    await page.get_by_role("button", name="Pay now").click()
    await pay_by_card(page, "4242 4242 4242 4242")
    await expect(page.get_by_role("heading", level=1)).to_have_text("You are booked")

    await page.get_by_role("link", name="My bookings", exact=True).click()
    await expect(page.get_by_test_id("booking-row")).to_have_count(1)
    await expect(page.get_by_test_id("saved-row")).to_contain_text("Booked")
    await shoot(page, "16-saved-then-booked")
    await page.get_by_test_id("saved-row").get_by_role("button", name=re.compile("^Delete")).click()
    await expect(page.get_by_test_id("saved-row")).to_have_count(0)
    await expect(page.get_by_test_id("booking-row")).to_have_count(1)
