"""A provider sets weekly hours in a browser: a mistake shown next to its field, then the
hours saved, the server's sweeper opening the times, which the provider's page lists;
against a real `slotbook serve`."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import Browser, expect

from tests.e2e import payment_flows as pf
from tests.e2e.booking import PASSWORD
from tests.e2e.browser import chromium, new_page, shoot
from tests.e2e.servers import Launcher
from tests.e2e.test_browser_booking import log_in

pytestmark = pytest.mark.e2e
MATERIALISED_SECONDS = 30


@pytest.fixture
async def world(launch: Launcher) -> AsyncIterator[pf.World]:
    w = await pf.open_world(launch, await launch.sqlite())
    yield w
    await pf.close_world(w)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as b:
        yield b


async def provider_with_a_service(api: httpx.AsyncClient) -> tuple[str, str]:
    """A provider selling a 60-minute foot massage, made through the API: email, id."""
    email = f"nok-{uuid.uuid4().hex[:8]}@example.com"
    signed = await api.post(
        "/v1/auth/signup",
        json={"email": email, "password": PASSWORD, "name": "Nok Foot Spa", "role": "provider"},
    )
    assert signed.status_code == 201, signed.text
    headers = {"Authorization": f"Bearer {signed.json()['access_token']}"}
    service = await api.post(
        "/v1/providers/me/services",
        json={
            "name": "Foot massage",
            "category": "massage",
            "duration_minutes": 60,
            "price_minor": 40_000,
            "currency": "THB",
        },
        headers=headers,
    )
    assert service.status_code == 201, service.text
    me = await api.get("/v1/me", headers=headers)
    return email, me.json()["provider_id"]


async def test_a_provider_sets_weekly_hours_and_the_times_open(
    world: pf.World, browser: Browser
) -> None:
    email, provider_id = await provider_with_a_service(world.api)
    page = await new_page(browser, world.server.url)
    await log_in(page, email)
    await page.get_by_role("link", name="My customers' bookings").click()
    await page.get_by_role("link", name=re.compile("^Set your weekly hours")).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Weekly hours")

    monday = "Foot massage, Monday, hours 1: "
    opens, closes = page.get_by_label(monday + "Opens"), page.get_by_label(monday + "Closes")
    await opens.fill("09:00")
    await opens.press("Tab")
    await expect(closes).to_be_focused()
    await closes.fill("08:00")  # closes before it opens
    await page.get_by_role("button", name="Save hours").click()
    await expect(page.get_by_test_id("hours-problems")).to_contain_text("Nothing was saved")
    await expect(closes).to_have_attribute("aria-invalid", "true")
    await expect(closes).to_have_accessible_description(
        "Must close after it opens, on the same day."
    )
    await shoot(page, "17-weekly-hours-problem")

    await closes.fill("17:00")
    await page.get_by_label(monday + "Break from").fill("12:00")
    await page.get_by_label(monday + "Break until").fill("13:00")
    saturday = "Foot massage, Saturday, hours 1: "
    await page.get_by_label(saturday + "Opens").fill("10:00")
    await page.get_by_label(saturday + "Closes").fill("14:00")
    today = datetime.now(ZoneInfo("Asia/Bangkok")).date()
    await page.get_by_label("Foot massage, change 1: Date").fill(str(today + timedelta(days=20)))
    await page.get_by_label("Foot massage, change 1: Closed that day").check()
    await page.get_by_label("Day off 1").fill(str(today + timedelta(days=21)))
    await page.get_by_role("button", name="Save hours").click()
    await expect(page.get_by_test_id("hours-saved")).to_have_text("Your hours are saved.")
    await expect(page.get_by_label(monday + "Break from")).to_have_value("12:00")

    await asyncio.to_thread(
        world.server.process.wait_for_events,
        {"availability_materialised": 1},
        timeout=MATERIALISED_SECONDS,
    )
    await page.reload()
    await expect(page.get_by_test_id("hours-status")).to_contain_text(
        "Your free times follow these hours, 60 days ahead"
    )
    await shoot(page, "18-weekly-hours")

    await page.goto(f"/providers/{provider_id}")
    monday_nine = re.compile(r"^Book Foot massage at 09:00, Monday ")
    await expect(page.get_by_role("button", name=monday_nine).first).to_be_visible()
    await expect(page.get_by_role("button", name=re.compile(r"at 12:00, Monday "))).to_have_count(
        0
    )  # the lunch break
