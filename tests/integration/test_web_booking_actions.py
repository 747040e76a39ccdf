"""The provider's "Mark completed" on the pages, no browser: offered only once the slot
has started, and refused before it when posted all the same (nothing changes); a
customer posting it is refused (403), as over the API."""

from __future__ import annotations

from datetime import timedelta

import httpx

from slotbook.adapters.clock import ManualClock
from slotbook.service_layer.context import Context
from tests.conftest import START
from tests.e2e.http_helpers import bearer, massage_slots, sign_up
from tests.e2e.test_http_payments import PRICE, hold_for, pay, settings, settle
from tests.fakes import FakeGateway
from tests.integration.test_web_saved_pages import log_in

__all__ = ["settings"]  # tokens (and so page sessions) outlast the clock's move to the slot

STARTS = START + timedelta(days=1)


async def booking_of_a_provider(
    client: httpx.AsyncClient, ctx: Context, gateway: FakeGateway
) -> tuple[str, dict[str, str], str, str]:
    """A confirmed booking at STARTS: the provider's email and headers, the customer's
    email, the booking's id."""
    signed = await sign_up(client, role="provider")
    provider = bearer(signed["access_token"])
    (slot_id,) = await massage_slots(client, provider, [STARTS.isoformat()], PRICE)
    customer, hold_id = await hold_for(client, slot_id)
    await settle(ctx, gateway, await pay(client, customer, hold_id))
    hold = (await client.get(f"/v1/holds/{hold_id}", headers=customer)).json()
    me = (await client.get("/v1/me", headers=customer)).json()
    return signed["user"]["email"], provider, me["email"], hold["booking_id"]


def offers_completion(page: httpx.Response, booking_id: str) -> bool:
    return f'action="/bookings/{booking_id}/complete"' in page.text


async def test_mark_completed_only_once_the_slot_has_started(
    client: httpx.AsyncClient, ctx: Context, clock: ManualClock, gateway: FakeGateway
) -> None:
    email, provider, customer_email, booking_id = await booking_of_a_provider(client, ctx, gateway)
    url = f"/v1/bookings/{booking_id}"

    # a customer posting the provider's form: refused, whoever's booking it is
    token = await log_in(client, customer_email)
    refused = await client.post(f"/bookings/{booking_id}/complete", data={"csrf": token})
    assert refused.status_code == 403
    assert "This account cannot do that" in refused.text

    token = await log_in(client, email)
    clock.set(STARTS - timedelta(minutes=1))
    listed = await client.get("/provider/bookings")
    assert listed.status_code == 200
    assert booking_id in listed.text
    assert not offers_completion(listed, booking_id)
    early = await client.post(f"/bookings/{booking_id}/complete", data={"csrf": token})
    assert early.status_code == 409
    assert "This booking has not started yet" in early.text
    assert (await client.get(url, headers=provider)).json()["status"] == "confirmed"

    clock.set(STARTS)
    assert offers_completion(await client.get("/provider/bookings"), booking_id)
    done = await client.post(f"/bookings/{booking_id}/complete", data={"csrf": token})
    assert (done.status_code, done.headers["location"]) == (303, "/provider/bookings")
    booking = (await client.get(url, headers=provider)).json()
    assert (booking["status"], booking["escrow"]["status"]) == ("completed", "released")
