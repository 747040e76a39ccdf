"""Driving Debian's Chromium with Playwright for the browser tests: one browser per test,
screenshots at desktop and phone width, and an axe-core accessibility check of each page
shot. Without /usr/bin/chromium the tests skip, except under CI, where they fail."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from tests.e2e.booking import PASSWORD, Account, hourly, iso, tomorrow_at

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).with_name("vendor") / "axe.min.js"
# a test run pictures into a scratch folder; `make screenshots` points this at
# docs/screenshots to refresh the README's pictures (a plain run never rewrites them)
SCREENSHOTS = Path(
    os.environ.get("SLOTBOOK_SCREENSHOTS_DIR")
    or Path(tempfile.gettempdir()) / "slotbook-screenshots"
)
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SERIOUS = {"serious", "critical"}
STEP_MS = 15_000


def require_chromium() -> None:
    """Skip without Debian's Chromium; under CI its absence is a failure."""
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is missing: apt-get install -y chromium fonts-thai-tlwg"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    require_chromium()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox"]
        )
        try:
            yield browser
        finally:
            await browser.close()


async def new_page(browser: Browser, base_url: str, locale: str = "en-GB") -> Page:
    """A page in a context of its own (its own cookies), the browser speaking `locale`."""
    context: BrowserContext = await browser.new_context(
        base_url=base_url, viewport=DESKTOP, locale=locale
    )
    context.set_default_timeout(STEP_MS)
    return await context.new_page()


async def violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical findings on the page as it is now."""
    await page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = await page.evaluate(
        """async () => (await axe.run(document)).violations.map(v => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => n.target.join(" "))}))"""
    )
    return [v for v in found if v["impact"] in SERIOUS]


async def shoot(page: Page, name: str) -> None:
    """Screenshots at desktop and phone width into SCREENSHOTS, and no serious
    accessibility violation at either width."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        await page.set_viewport_size(size)
        await page.screenshot(path=SCREENSHOTS / f"{name}-{label}.png", full_page=True)
        found = await violations(page)
        assert not found, f"{name} at {label} width: {found}"
    await page.set_viewport_size(DESKTOP)


async def shoot_other(page: Page, name: str) -> None:
    """Another system's page (the gateway's hosted page): pictured at both widths, not
    checked."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        await page.set_viewport_size(size)
        await page.screenshot(path=SCREENSHOTS / f"{name}-{label}.png", full_page=True)
    await page.set_viewport_size(DESKTOP)


async def sign_up_in_browser(page: Page, name: str) -> str:
    """A new customer through the sign-up page; its email."""
    email = f"{name}-{uuid.uuid4().hex[:8]}@example.com"
    await page.get_by_role("link", name="Sign up").first.click()
    await page.get_by_label("Your name").fill(name)
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Create my account").click()
    return email


async def provider_with_slots(
    api: httpx.AsyncClient, name: str, count: int = 6, category: str = "massage"
) -> tuple[Account, str, list[str]]:
    """A provider (its email and the e2e password) with one service and `count` hourly
    slots tomorrow, made through the API: the provider, its email and the slot ids."""
    email = f"{name.lower().replace(' ', '-')}-{uuid.uuid4().hex[:8]}@example.com"
    signed = await api.post(
        "/v1/auth/signup",
        json={"email": email, "password": PASSWORD, "name": name, "role": "provider"},
    )
    assert signed.status_code == 201, signed.text
    headers = {"Authorization": f"Bearer {signed.json()['access_token']}"}
    service = await api.post(
        "/v1/providers/me/services",
        json={
            "name": "Traditional Thai massage",
            "category": category,
            "duration_minutes": 60,
            "price_minor": 45_000,
            "currency": "THB",
        },
        headers=headers,
    )
    assert service.status_code == 201, service.text
    slots = await api.post(
        "/v1/providers/me/slots",
        json={
            "service_id": service.json()["id"],
            "starts_at": [iso(t) for t in hourly(tomorrow_at(2), count)],
        },
        headers=headers,
    )
    assert slots.status_code == 201, slots.text
    me = await api.get("/v1/me", headers=headers)
    account = Account(me.json()["id"], signed.json()["access_token"], me.json()["provider_id"])
    return account, email, [s["id"] for s in slots.json()["slots"]]


async def pay_by_card(page: Page, number: str) -> None:
    """On the sandbox gateway's hosted page: pay with a test card."""
    await page.get_by_label("Card number").fill(number)
    await page.get_by_label("Expiry (MM/YY)").fill("12/34")
    await page.get_by_label("Security code").fill("123")
    await page.get_by_role("button", name="Pay").click()
