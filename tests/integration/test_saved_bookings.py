"""Saved bookings through the service and its repository, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from slotbook.adapters.clock import ManualClock
from slotbook.domain.errors import SavedBookingNotFound, SlotUnavailable
from slotbook.domain.states import SlotStatus
from slotbook.service_layer import holds, saved_bookings
from slotbook.service_layer.context import Context
from tests import builders
from tests.conftest import START
from tests.e2e.http_helpers import count_rows


async def test_saving_one_slot_at_once_twice_keeps_one(ctx: Context) -> None:
    _, slots = await builders.provider_with_slots(ctx, first=START + timedelta(days=1))
    alice = await builders.customer(ctx)
    both = await asyncio.gather(
        *(
            saved_bookings.save(ctx, customer_id=alice.id, slot_id=slots[0].id, note=n)
            for n in ("a", "b")
        )
    )
    assert both[0].saved.id == both[1].saved.id
    assert sorted(s.created for s in both) == [False, True]
    assert await count_rows(ctx, "saved_bookings") == 1


async def test_live_status_and_checkout_through_the_hold_service(
    ctx: Context, clock: ManualClock
) -> None:
    _, slots = await builders.provider_with_slots(ctx, first=START + timedelta(days=1))
    alice, bob = await builders.customer(ctx), await builders.customer(ctx)
    saved = await saved_bookings.save(ctx, customer_id=alice.id, slot_id=slots[0].id, note=None)
    bobs = await holds.place_hold(ctx, slot_id=slots[0].id, customer_id=bob.id)
    with pytest.raises(SlotUnavailable) as refused:
        await saved_bookings.checkout(ctx, saved_id=saved.saved.id, customer_id=alice.id)
    assert refused.value.suggestions
    [(_, slot)] = await saved_bookings.list_saved(ctx, customer_id=alice.id)
    assert slot.status_at(clock.now()) is SlotStatus.HELD
    clock.advance(ctx.settings.hold_ttl_seconds)  # bob's hold runs out, unswept
    [(_, slot)] = await saved_bookings.list_saved(ctx, customer_id=alice.id)
    assert slot.status_at(clock.now()) is SlotStatus.AVAILABLE
    placed = await saved_bookings.checkout(ctx, saved_id=saved.saved.id, customer_id=alice.id)
    assert placed.created
    assert placed.hold.slot_id == slots[0].id
    assert (await holds.get_hold(ctx, hold_id=bobs.hold.id, customer_id=bob.id)).status == (
        "released"
    )
    with pytest.raises(SavedBookingNotFound):
        await saved_bookings.checkout(ctx, saved_id=saved.saved.id, customer_id=bob.id)
    with pytest.raises(SavedBookingNotFound):
        await saved_bookings.delete_saved(ctx, saved_id=saved.saved.id, customer_id=bob.id)
    await saved_bookings.delete_saved(ctx, saved_id=saved.saved.id, customer_id=alice.id)
    assert await saved_bookings.list_saved(ctx, customer_id=alice.id) == []
