"""A person booking in a browser: Debian's Chromium driven by Playwright against a real
`slotbook serve` and a real sandbox-gateway process, its webhooks over HTTP."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, expect

from tests.e2e import payment_flows as pf
from tests.e2e.booking import PASSWORD
from tests.e2e.browser import (
    chromium,
    new_page,
    pay_by_card,
    provider_with_slots,
    shoot,
    shoot_other,
)
from tests.e2e.browser import sign_up_in_browser as sign_up
from tests.e2e.servers import Launcher

pytestmark = pytest.mark.e2e

PAYS = "4242 4242 4242 4242"
DECLINED = "4000 0000 0000 0002"


CONFIRM = {"SLOTBOOK_PAYMENT_CONFIRM_TIMEOUT_SECONDS": "5"}


@pytest.fixture(
    params=[pytest.param("sqlite"), pytest.param("postgresql", marks=pytest.mark.postgres)]
)
async def any_world(launch: Launcher, request: pytest.FixtureRequest) -> AsyncIterator[pf.World]:
    """The server on SQLite, and on PostgreSQL."""
    url = await launch.sqlite() if request.param == "sqlite" else await launch.postgres()
    w = await pf.open_world(launch, url, **CONFIRM)
    yield w
    await pf.close_world(w)


@pytest.fixture
async def world(launch: Launcher) -> AsyncIterator[pf.World]:
    w = await pf.open_world(launch, await launch.sqlite(), **CONFIRM)
    yield w
    await pf.close_world(w)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as b:
        yield b


async def open_provider(page: Page, name: str) -> None:
    """From the home page: the category, a search for the name, the provider's page."""
    await page.goto("/")
    await page.get_by_role("link", name="Massage", exact=True).click()
    await page.get_by_label("Search providers").fill(name)
    await page.get_by_role("button", name="Search", exact=True).click()
    await page.get_by_role("link", name=name).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(name)


async def test_home_page_to_a_confirmed_booking(any_world: pf.World, browser: Browser) -> None:
    world = any_world
    _, provider_email, _ = await provider_with_slots(world.api, "Sukhumvit Massage")
    page = await new_page(browser, world.server.url)
    await page.goto("/")
    await shoot(page, "01-home")
    await sign_up(page, "Alice")
    await open_provider(page, "Sukhumvit Massage")
    await shoot(page, "02-provider")

    # by keyboard: the first Tab reaches the skip link, Enter on a time books it
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    await page.get_by_role("button", name=re.compile(r"^Book .* at 09:00")).focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_have_text("This time is held for you")
    await expect(page.get_by_role("timer")).to_have_text(re.compile(r"^(10:00|09:5\d)$"))
    await expect(page.get_by_test_id("price")).to_have_text("฿450.00")
    await shoot(page, "03-hold")
    await page.get_by_label("Card").check()
    await page.get_by_role("button", name="Pay now").click()

    await expect(page).to_have_url(re.compile(re.escape(world.gateway.url) + "/sandbox/pay/"))
    await shoot_other(page, "04-gateway-card")
    await pay_by_card(page, PAYS)
    await expect(page.get_by_role("heading", level=1)).to_have_text("You are booked")
    await expect(page.get_by_test_id("escrow")).to_have_text("Paid, held in escrow")
    await shoot(page, "05-booked")

    ics = await page.request.get(
        await page.get_by_role("link", name="Add to my calendar (.ics)").get_attribute("href") or ""
    )
    assert ics.status == 200
    text = await ics.text()
    assert "BEGIN:VEVENT" in text
    assert "Sukhumvit Massage" in text

    await page.get_by_role("link", name="My bookings", exact=True).click()
    await expect(page.get_by_test_id("booking-row")).to_have_count(1)
    await shoot(page, "06-my-bookings")

    # the provider sees it; the service is tomorrow, so there is nothing to mark completed
    # yet and the money stays in escrow (completing once it has started, on a clock moved
    # by hand: tests/integration/test_web_booking_actions.py)
    provider = await new_page(browser, world.server.url)
    await log_in(provider, provider_email)
    await provider.get_by_role("link", name="My customers' bookings").click()
    await expect(provider.get_by_test_id("booking-row")).to_have_count(1)
    await shoot(provider, "07-provider-bookings")
    await expect(provider.get_by_test_id("booking-row")).to_contain_text("Paid, held in escrow")
    mark = provider.get_by_role("button", name=re.compile("^Mark completed"))
    await expect(mark).to_have_count(0)


async def log_in(page: Page, email: str) -> None:
    await page.goto("/")
    await page.get_by_role("link", name="Log in").click()
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("button", name="Log out")).to_be_visible()


async def test_losing_the_race_offers_alternatives_and_one_books(
    world: pf.World, browser: Browser
) -> None:
    _, _, slot_ids = await provider_with_slots(world.api, "Silom Spa")
    page = await new_page(browser, world.server.url)
    await page.goto("/")
    await sign_up(page, "Bea")
    await open_provider(page, "Silom Spa")
    # someone else holds 09:00 while Bea looks at the page
    rival = await pf.customer(world, "rival")
    await pf.hold(world, rival, slot_ids[0])

    await page.get_by_role("button", name=re.compile(r"^Book .* at 09:00")).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Someone else got this time first"
    )
    offers = page.get_by_test_id("alternative")
    await expect(offers.first).to_be_visible()
    assert await offers.count() >= 1
    await shoot(page, "08-taken-alternatives")
    await offers.first.get_by_role("button").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("This time is held for you")
    await page.get_by_role("button", name="Pay now").click()
    await pay_by_card(page, PAYS)
    await expect(page.get_by_role("heading", level=1)).to_have_text("You are booked")

    # and cancelled again: refunded in full
    await page.get_by_role("button", name="Cancel this booking (full refund)").click()
    await expect(page.get_by_test_id("booking-status")).to_have_text("Cancelled")
    await expect(page.get_by_test_id("escrow")).to_have_text("Refunded")


async def test_a_declined_card_then_promptpay_in_a_new_hold(
    world: pf.World, browser: Browser
) -> None:
    await provider_with_slots(world.api, "Ari Herbal")
    page = await new_page(browser, world.server.url)
    await page.goto("/")
    await sign_up(page, "Chai")
    await open_provider(page, "Ari Herbal")
    await page.get_by_role("button", name=re.compile(r"^Book .* at 10:00")).click()
    await page.get_by_role("button", name="Pay now").click()
    await pay_by_card(page, DECLINED)
    await expect(page.get_by_role("heading", level=1)).to_have_text("The payment was declined")
    await shoot(page, "09-declined")

    await page.get_by_role("button", name="Hold this time again").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("This time is held for you")
    hold_url = page.url
    # card first, then back from the gateway's page to switch to PromptPay
    await page.get_by_role("button", name="Pay now").click()
    await expect(page).to_have_url(re.compile("/sandbox/pay/"))
    await page.goto(hold_url)
    await expect(page.get_by_role("status")).to_contain_text("A payment by Card was started")
    await page.get_by_label("PromptPay").check()
    await page.get_by_role("button", name="Pay now").click()
    await expect(page.get_by_role("img")).to_be_visible()
    await shoot_other(page, "10-gateway-promptpay")
    await page.get_by_role("button", name="The bank says: paid").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("You are booked")


async def test_thai_pages_for_a_thai_browser(world: pf.World, browser: Browser) -> None:
    _, _, slot_ids = await provider_with_slots(world.api, "Thonglor Spa")
    slot = (await world.api.get(f"/v1/slots/{slot_ids[0]}")).json()
    year = int(slot["starts_at"][:4]) + 543  # 09:00 in Bangkok: the same day as in UTC
    page = await new_page(browser, world.server.url, locale="th-TH")
    await page.goto("/")
    await expect(page.get_by_role("heading", level=1)).to_have_text("จองเวลากับผู้ให้บริการ")
    await shoot(page, "11-th-home")
    await page.get_by_role("link", name="สมัครสมาชิก").first.click()
    await page.get_by_label("ชื่อของคุณ").fill("สมชาย")
    await page.get_by_label("อีเมล").fill(f"somchai-{slot_ids[0][:8]}@example.com")
    await page.get_by_label("รหัสผ่าน").fill(PASSWORD)
    await page.get_by_role("button", name="สร้างบัญชี").click()
    await page.get_by_role("link", name="นวด", exact=True).click()
    await page.get_by_role("link", name="Thonglor Spa").click()
    await expect(page.get_by_role("heading", level=3).first).to_contain_text(str(year))
    await shoot(page, "12-th-provider")
    await page.get_by_role("button", name=re.compile("^จอง .* เวลา 09:00")).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("เรากันเวลานี้ไว้ให้คุณแล้ว")
    await expect(page.get_by_test_id("price")).to_have_text("฿450.00")
    await shoot(page, "13-th-hold")
    # the switch on every page
    await page.get_by_role("link", name="English").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("This time is held for you")
