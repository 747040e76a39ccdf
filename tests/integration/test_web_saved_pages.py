"""Saved bookings on the pages, no browser: save for later, the list with each slot as it
reads now, confirm and pay to the hold page (the alternatives when the time was lost),
delete; CSRF on every form, and another customer's saved booking is not found."""

from __future__ import annotations

import re
from datetime import timedelta
from uuid import UUID

import httpx

from slotbook.service_layer import holds, saved_bookings
from slotbook.service_layer.context import Context
from tests import builders
from tests.conftest import START
from tests.integration.test_web_pages import csrf_of

SAVED_ROW = re.compile(r'data-testid="saved-row" data-status="(\w+)"')
CHECKOUT = re.compile(r'action="/saved/([0-9a-f-]+)/checkout"')


async def log_in(client: httpx.AsyncClient, email: str) -> str:
    token = await csrf_of(client, "/login")
    answer = await client.post(
        "/login", data={"email": email, "password": "password123", "csrf": token}
    )
    assert answer.status_code == 303
    return token


async def test_save_list_confirm_and_pay_then_delete(
    ctx: Context, client: httpx.AsyncClient
) -> None:
    provider_id, slots = await builders.provider_with_slots(ctx, first=START + timedelta(days=1))
    alice = await builders.customer(ctx, "alice")
    token = await log_in(client, alice.email)
    page = await client.get(f"/providers/{provider_id}")
    assert "Save for later" in page.text
    for slot in (slots[1], slots[0], slots[1]):  # the second save of a slot keeps the one
        saved = await client.post("/saved", data={"slot_id": str(slot.id), "csrf": token})
        assert saved.status_code == 303
        assert saved.headers["location"] == "/me/bookings#saved"
    mine = await client.get("/me/bookings")
    assert SAVED_ROW.findall(mine.text) == ["available", "available"]
    first_id = CHECKOUT.findall(mine.text)[0]  # soonest first: slots[0]
    paid = await client.post(f"/saved/{first_id}/checkout", data={"csrf": token})
    assert paid.status_code == 303
    hold_page = await client.get(paid.headers["location"])
    assert hold_page.status_code == 200
    assert "This time is held for you" in hold_page.text
    hold_id = UUID(paid.headers["location"].removeprefix("/holds/"))
    hold = await holds.get_hold(ctx, hold_id=hold_id, customer_id=alice.id)
    assert hold.slot_id == slots[0].id
    again = await client.post(f"/saved/{first_id}/checkout", data={"csrf": token})
    assert again.headers["location"] == paid.headers["location"]  # the same hold
    mine = await client.get("/me/bookings")
    assert SAVED_ROW.findall(mine.text) == ["held", "available"]
    gone = await client.post(f"/saved/{first_id}/delete", data={"csrf": token})
    assert gone.status_code == 303
    left = await saved_bookings.list_saved(ctx, customer_id=alice.id)
    assert [slot.id for _, slot in left] == [slots[1].id]
    assert SAVED_ROW.findall((await client.get("/me/bookings")).text) == ["available"]


async def test_a_saved_time_taken_meanwhile_offers_the_alternatives(
    ctx: Context, client: httpx.AsyncClient
) -> None:
    _, slots = await builders.provider_with_slots(ctx, first=START + timedelta(days=1))
    alice, bob = await builders.customer(ctx, "alice"), await builders.customer(ctx, "bob")
    saved = await saved_bookings.save(ctx, customer_id=alice.id, slot_id=slots[0].id, note=None)
    await holds.place_hold(ctx, slot_id=slots[0].id, customer_id=bob.id)
    token = await log_in(client, alice.email)
    mine = await client.get("/me/bookings")
    assert SAVED_ROW.findall(mine.text) == ["held"]
    lost = await client.post(f"/saved/{saved.saved.id}/checkout", data={"csrf": token})
    assert lost.status_code == 409
    assert "Someone else got this time first" in lost.text
    assert 'data-testid="alternative"' in lost.text


async def test_saved_forms_without_the_csrf_token_are_refused(
    ctx: Context, client: httpx.AsyncClient
) -> None:
    _, slots = await builders.provider_with_slots(ctx, first=START + timedelta(days=1))
    alice = await builders.customer(ctx, "alice")
    saved = await saved_bookings.save(ctx, customer_id=alice.id, slot_id=slots[0].id, note=None)
    await log_in(client, alice.email)
    refused = [
        await client.post("/saved", data={"slot_id": str(slots[1].id), "csrf": "guess"}),
        await client.post(f"/saved/{saved.saved.id}/checkout", data={"csrf": "guess"}),
        await client.post(f"/saved/{saved.saved.id}/delete", data={"csrf": "guess"}),
    ]
    assert [r.status_code for r in refused] == [403, 403, 403]
    left = await saved_bookings.list_saved(ctx, customer_id=alice.id)
    assert [(s.id, slot.id) for s, slot in left] == [(saved.saved.id, slots[0].id)]
    [(_, slot)] = left
    assert slot.status_at(ctx.clock.now()) == "available"  # no hold was placed


async def test_another_customers_saved_booking_is_not_found(
    ctx: Context, client: httpx.AsyncClient
) -> None:
    _, slots = await builders.provider_with_slots(ctx, first=START + timedelta(days=1))
    alice, bob = await builders.customer(ctx, "alice"), await builders.customer(ctx, "bob")
    saved = await saved_bookings.save(ctx, customer_id=alice.id, slot_id=slots[0].id, note=None)
    token = await log_in(client, bob.email)
    assert SAVED_ROW.findall((await client.get("/me/bookings")).text) == []
    for action in ("checkout", "delete"):
        answer = await client.post(f"/saved/{saved.saved.id}/{action}", data={"csrf": token})
        assert answer.status_code == 404
        assert "Not found" in answer.text
    left = await saved_bookings.list_saved(ctx, customer_id=alice.id)
    assert [s.id for s, _ in left] == [saved.saved.id]
    [(_, slot)] = left
    assert slot.status_at(ctx.clock.now()) == "available"


async def test_saving_an_unknown_time_is_not_found(ctx: Context, client: httpx.AsyncClient) -> None:
    alice = await builders.customer(ctx, "alice")
    token = await log_in(client, alice.email)
    answer = await client.post(
        "/saved", data={"slot_id": "00000000-0000-4000-8000-000000000000", "csrf": token}
    )
    assert answer.status_code == 404
