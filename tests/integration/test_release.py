"""Cancelling a hold: released at once, its slot back on sale; a confirmed hold stays.
(The sweeper's releases are in test_sweeper.py.)"""

from __future__ import annotations

import uuid
from datetime import timedelta
from uuid import UUID

import pytest
from sqlalchemy import insert, update

from slotbook.adapters.clock import ManualClock
from slotbook.adapters.db.repos.holds import get_hold
from slotbook.adapters.db.tables import bookings, slots
from slotbook.adapters.db.tables import holds as holds_table
from slotbook.domain.errors import HoldNotActive, HoldNotFound
from slotbook.domain.slots import Slot
from slotbook.domain.states import HoldStatus, ReleaseReason, SlotStatus
from slotbook.service_layer import catalog, health, holds
from slotbook.service_layer.context import Context
from tests import builders
from tests.conftest import START

DAY = START + timedelta(days=1)
TTL = 600


async def test_cancel_releases_the_hold(ctx: Context) -> None:
    _, (slot, *_) = await builders.provider_with_slots(ctx, first=DAY)
    alice = await builders.customer(ctx)
    hold = (await holds.place_hold(ctx, slot_id=slot.id, customer_id=alice.id)).hold
    cancelled = await holds.cancel_hold(ctx, hold_id=hold.id, customer_id=alice.id)
    assert (cancelled.status, cancelled.release_reason) == (
        HoldStatus.RELEASED,
        ReleaseReason.CANCELLED,
    )


async def test_cancel_puts_the_slot_back_on_sale_at_once(ctx: Context) -> None:
    _, (slot, *_) = await builders.provider_with_slots(ctx, first=DAY)
    alice, bob = await builders.customer(ctx), await builders.customer(ctx)
    hold = (await holds.place_hold(ctx, slot_id=slot.id, customer_id=alice.id)).hold
    await holds.cancel_hold(ctx, hold_id=hold.id, customer_id=alice.id)
    assert (await catalog.get_slot(ctx, slot_id=slot.id)).status is SlotStatus.AVAILABLE
    assert (await holds.place_hold(ctx, slot_id=slot.id, customer_id=bob.id)).created


async def test_cancelling_again_answers_the_released_hold(ctx: Context) -> None:
    _, (slot, *_) = await builders.provider_with_slots(ctx, first=DAY)
    alice = await builders.customer(ctx)
    hold = (await holds.place_hold(ctx, slot_id=slot.id, customer_id=alice.id)).hold
    await holds.cancel_hold(ctx, hold_id=hold.id, customer_id=alice.id)
    again = await holds.cancel_hold(ctx, hold_id=hold.id, customer_id=alice.id)
    assert (again.status, again.release_reason) == (HoldStatus.RELEASED, ReleaseReason.CANCELLED)


async def test_cancel_of_an_expired_unswept_hold_answers_expired(
    ctx: Context, clock: ManualClock
) -> None:
    _, (slot, *_) = await builders.provider_with_slots(ctx, first=DAY)
    alice = await builders.customer(ctx)
    hold = (await holds.place_hold(ctx, slot_id=slot.id, customer_id=alice.id)).hold
    clock.advance(TTL)
    cancelled = await holds.cancel_hold(ctx, hold_id=hold.id, customer_id=alice.id)
    assert (cancelled.status, cancelled.release_reason) == (
        HoldStatus.RELEASED,
        ReleaseReason.EXPIRED,
    )


async def test_cancel_of_an_expired_unswept_hold_frees_its_slot(
    ctx: Context, clock: ManualClock
) -> None:
    _, (slot, *_) = await builders.provider_with_slots(ctx, first=DAY)
    alice = await builders.customer(ctx)
    hold = (await holds.place_hold(ctx, slot_id=slot.id, customer_id=alice.id)).hold
    clock.advance(TTL)
    await holds.cancel_hold(ctx, hold_id=hold.id, customer_id=alice.id)
    freed = await catalog.get_slot(ctx, slot_id=slot.id)
    assert (freed.status, freed.hold_id) == (SlotStatus.AVAILABLE, None)


async def plant_confirmed_hold(ctx: Context, slot: Slot, customer_id: UUID) -> UUID:
    """A hold confirmed into a booking, written directly (payments come later)."""
    hold_id = uuid.uuid4()
    async with ctx.db.write() as conn:
        await conn.execute(
            insert(holds_table).values(
                id=hold_id,
                slot_id=slot.id,
                provider_id=slot.provider_id,
                customer_id=customer_id,
                status=HoldStatus.CONFIRMED,
                created_at=START,
                expires_at=START + timedelta(seconds=TTL),
                amount_minor=slot.price_minor,
                currency=slot.currency,
            )
        )
        await conn.execute(
            insert(bookings).values(
                id=uuid.uuid4(),
                hold_id=hold_id,
                slot_id=slot.id,
                provider_id=slot.provider_id,
                customer_id=customer_id,
                status="confirmed",
                amount_minor=slot.price_minor,
                currency=slot.currency,
                confirmed_at=START,
            )
        )
        await conn.execute(
            update(slots)
            .where(slots.c.id == slot.id)
            .values(status=SlotStatus.BOOKED, hold_id=hold_id)
        )
    return hold_id


async def test_cancel_of_a_confirmed_hold_is_refused_and_changes_nothing(ctx: Context) -> None:
    _, (slot, *_) = await builders.provider_with_slots(ctx, first=DAY)
    alice = await builders.customer(ctx)
    hold_id = await plant_confirmed_hold(ctx, slot, alice.id)
    with pytest.raises(HoldNotActive, match="confirmed"):
        await holds.cancel_hold(ctx, hold_id=hold_id, customer_id=alice.id)
    async with ctx.db.read() as conn:
        kept = await get_hold(conn, hold_id)
    assert kept is not None
    assert kept.status is HoldStatus.CONFIRMED
    assert (await catalog.get_slot(ctx, slot_id=slot.id)).status is SlotStatus.BOOKED


async def test_another_customers_hold_cannot_be_read(ctx: Context) -> None:
    _, (slot, *_) = await builders.provider_with_slots(ctx, first=DAY)
    alice, mallory = await builders.customer(ctx), await builders.customer(ctx)
    hold = (await holds.place_hold(ctx, slot_id=slot.id, customer_id=alice.id)).hold
    with pytest.raises(HoldNotFound):
        await holds.get_hold(ctx, hold_id=hold.id, customer_id=mallory.id)


async def test_another_customers_hold_cannot_be_cancelled(ctx: Context) -> None:
    _, (slot, *_) = await builders.provider_with_slots(ctx, first=DAY)
    alice, mallory = await builders.customer(ctx), await builders.customer(ctx)
    hold = (await holds.place_hold(ctx, slot_id=slot.id, customer_id=alice.id)).hold
    with pytest.raises(HoldNotFound):
        await holds.cancel_hold(ctx, hold_id=hold.id, customer_id=mallory.id)
    seen = await holds.get_hold(ctx, hold_id=hold.id, customer_id=alice.id)
    assert seen.status is HoldStatus.ACTIVE


async def test_live_holds_count_the_active_unexpired_ones(ctx: Context, clock: ManualClock) -> None:
    _, (first, second, *_) = await builders.provider_with_slots(ctx, first=DAY)
    alice, bob = await builders.customer(ctx), await builders.customer(ctx)
    hold = (await holds.place_hold(ctx, slot_id=first.id, customer_id=alice.id)).hold
    await holds.place_hold(ctx, slot_id=second.id, customer_id=bob.id)
    assert await health.live_holds(ctx) == 2
    await holds.cancel_hold(ctx, hold_id=hold.id, customer_id=alice.id)
    assert await health.live_holds(ctx) == 1
    clock.advance(TTL + 1)  # run out, not yet swept
    assert await health.live_holds(ctx) == 0
