"""Completing and cancelling bookings over HTTP (in process, both databases, the clock
moved by hand): completing only once the slot has started, and who may do what (a role
that never may: 403, whoever's booking it is; another user's booking: 404)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx

from slotbook.adapters.clock import ManualClock
from slotbook.service_layer.context import Context
from tests.e2e.http_helpers import assert_problem, bearer, sign_up
from tests.e2e.test_http_payments import (
    PRICE,
    admin_headers,
    api,
    hold_for,
    pay,
    provider,
    settings,
    settle,
    slot_ids,
)
from tests.fakes import FakeGateway

# the fixtures of test_http_payments, shared (tokens outlast the clock's move to DAY)
__all__ = ["api", "provider", "settings", "slot_ids"]


async def booked(
    api: httpx.AsyncClient, ctx: Context, gateway: FakeGateway, slot_id: str
) -> tuple[dict[str, str], dict[str, Any]]:
    """A new customer's confirmed booking of the slot: the customer's headers, the booking."""
    headers, hold_id = await hold_for(api, slot_id)
    await settle(ctx, gateway, await pay(api, headers, hold_id))
    booking_id = (await api.get(f"/v1/holds/{hold_id}", headers=headers)).json()["booking_id"]
    booking = (await api.get(f"/v1/bookings/{booking_id}", headers=headers)).json()
    assert booking["status"] == "confirmed"
    return headers, booking


async def starts_at(api: httpx.AsyncClient, slot_id: str) -> datetime:
    slot = (await api.get(f"/v1/slots/{slot_id}")).json()
    return datetime.fromisoformat(slot["starts_at"])


async def test_a_booking_is_completed_only_once_its_slot_has_started(
    api: httpx.AsyncClient,
    ctx: Context,
    clock: ManualClock,
    gateway: FakeGateway,
    provider: dict[str, str],
    slot_ids: list[str],
) -> None:
    customer, booking = await booked(api, ctx, gateway, slot_ids[0])
    admin = await admin_headers(ctx)
    summary = (await api.get("/v1/admin/ledger/summary", headers=admin)).json()
    url = f"/v1/bookings/{booking['id']}"

    clock.set(await starts_at(api, slot_ids[0]) - timedelta(seconds=1))
    for who in (provider, admin):
        assert_problem(await api.post(f"{url}/complete", headers=who), 409, "/booking-not-started")
    assert (await api.get(url, headers=customer)).json() == booking  # nothing changed
    assert (await api.get("/v1/admin/ledger/summary", headers=admin)).json() == summary

    # the customer can still have the money back until the service was delivered
    cancelled = await api.post(f"{url}/cancel", headers=customer)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["escrow"]["status"] == "refunded"


async def test_at_its_start_the_provider_or_an_admin_completes_it(
    api: httpx.AsyncClient,
    ctx: Context,
    clock: ManualClock,
    gateway: FakeGateway,
    provider: dict[str, str],
    slot_ids: list[str],
) -> None:
    _, by_provider = await booked(api, ctx, gateway, slot_ids[0])
    _, by_admin = await booked(api, ctx, gateway, slot_ids[1])
    clock.set(await starts_at(api, slot_ids[1]))  # both have started (slot 0 an hour ago)
    admin = await admin_headers(ctx)
    for booking, who in ((by_provider, provider), (by_admin, admin)):
        done = await api.post(f"/v1/bookings/{booking['id']}/complete", headers=who)
        assert done.status_code == 200, done.text
        assert (done.json()["status"], done.json()["escrow"]["status"]) == (
            "completed",
            "released",
        )
    summary = (await api.get("/v1/admin/ledger/summary", headers=admin)).json()
    fee = PRICE * ctx.settings.platform_fee_bps // 10_000
    assert summary["released_to_providers_minor"] == 2 * (PRICE - fee)
    assert (summary["escrow_held_minor"], summary["balanced"]) == (0, True)


async def test_a_wrong_role_is_forbidden_and_another_users_booking_not_found(
    api: httpx.AsyncClient,
    ctx: Context,
    clock: ManualClock,
    gateway: FakeGateway,
    provider: dict[str, str],
    slot_ids: list[str],
) -> None:
    customer, booking = await booked(api, ctx, gateway, slot_ids[0])
    url = f"/v1/bookings/{booking['id']}"
    stranger = bearer((await sign_up(api))["access_token"])
    rival = bearer((await sign_up(api, role="provider"))["access_token"])
    admin = await admin_headers(ctx)
    clock.set(await starts_at(api, slot_ids[0]))

    # customers never complete: 403 for their own booking, another's, or none at all
    for who, path in (
        (customer, url),
        (stranger, url),
        (customer, f"/v1/bookings/{uuid.uuid4()}"),
    ):
        assert_problem(await api.post(f"{path}/complete", headers=who), 403, "/forbidden")
    # admins never cancel, though they see every booking
    assert (await api.get(url, headers=admin)).status_code == 200
    assert_problem(await api.post(f"{url}/cancel", headers=admin), 403, "/forbidden")
    # the right role on someone else's booking: it is not there
    assert_problem(await api.post(f"{url}/complete", headers=rival), 404, "/booking-not-found")
    assert_problem(await api.post(f"{url}/cancel", headers=rival), 404, "/booking-not-found")
    assert_problem(await api.post(f"{url}/cancel", headers=stranger), 404, "/booking-not-found")
    assert (await api.get(url, headers=customer)).json() == booking  # nothing changed

    done = await api.post(f"{url}/complete", headers=admin)
    assert done.status_code == 200, done.text
    assert done.json()["escrow"]["status"] == "released"


async def test_complete_and_cancel_at_once_one_wins(
    api: httpx.AsyncClient,
    ctx: Context,
    clock: ManualClock,
    gateway: FakeGateway,
    provider: dict[str, str],
    slot_ids: list[str],
) -> None:
    """Each re-reads the booking under the slot's and the hold's locks: one moves it."""
    customer, booking = await booked(api, ctx, gateway, slot_ids[0])
    clock.set(await starts_at(api, slot_ids[0]))
    url = f"/v1/bookings/{booking['id']}"
    answers = await asyncio.gather(
        api.post(f"{url}/complete", headers=provider),
        api.post(f"{url}/cancel", headers=customer),
    )
    assert sorted(a.status_code for a in answers) == [200, 409]
    lost = next(a for a in answers if a.status_code == 409)
    assert_problem(lost, 409, "/booking-not-active")
    summary = (await api.get("/v1/admin/ledger/summary", headers=await admin_headers(ctx))).json()
    assert (summary["escrow_held_minor"], summary["balanced"]) == (0, True)
