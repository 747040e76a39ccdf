"""The hold runs out while the customer looks at it: the server's clock and the page's
clock are both moved past the 10 minutes (no waiting), and the page shows why, with the
alternatives, one of which is held in one click."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
import pytest
from playwright.async_api import expect

from slotbook.adapters.clock import ManualClock
from tests.e2e.browser import chromium, new_page, provider_with_slots, shoot
from tests.e2e.browser import sign_up_in_browser as sign_up
from tests.e2e.clocked_server import clocked_server
from tests.e2e.servers import Launcher

pytestmark = pytest.mark.e2e
HOLD_SECONDS = 600


async def test_the_hold_runs_out_while_the_customer_waits(launch: Launcher) -> None:
    clock = ManualClock(datetime.now(UTC))
    async with (
        clocked_server(await launch.sqlite(), clock) as server,
        httpx.AsyncClient(base_url=server.url, timeout=30) as api,
        chromium() as browser,
    ):
        await provider_with_slots(api, "Riverside Massage")
        page = await new_page(browser, server.url)
        await page.clock.install()
        await page.goto("/")
        await sign_up(page, "Dao")
        await page.goto("/")
        await page.get_by_role("link", name="Riverside Massage").click()
        await page.get_by_role("button", name=re.compile(r"^Book .* at 11:00")).click()
        await expect(page.get_by_role("timer")).to_have_text("10:00")

        clock.advance(HOLD_SECONDS + 1)
        await page.clock.fast_forward(HOLD_SECONDS * 1000 + 1000)
        await expect(page.get_by_role("heading", level=1)).to_have_text("Your hold ran out")
        offers = page.get_by_test_id("alternative")
        await expect(offers.first).to_be_visible()
        await shoot(page, "14-hold-ran-out")

        await offers.first.get_by_role("button").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("This time is held for you")
        await expect(page.get_by_role("timer")).to_have_text("10:00")
