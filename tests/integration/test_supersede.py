"""A customer has one active hold: a granted hold releases the previous one, a refused
one leaves it alone (SQLite and PostgreSQL, manual clock)."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest

from slotbook.adapters.clock import ManualClock
from slotbook.adapters.db.repos.holds import get_hold
from slotbook.domain.errors import SlotUnavailable
from slotbook.domain.holds import Hold
from slotbook.domain.states import HoldStatus, ReleaseReason, SlotStatus
from slotbook.service_layer import catalog, holds
from slotbook.service_layer.context import Context
from tests import builders
from tests.conftest import START

DAY = START + timedelta(days=1)
TTL = 600


async def stored(ctx: Context, hold_id: UUID) -> Hold:
    """The hold as storage has it (not as a reader sees it at the clock's now)."""
    async with ctx.db.read() as conn:
        hold = await get_hold(conn, hold_id)
    assert hold is not None
    return hold


async def slot_status(ctx: Context, slot_id: UUID) -> SlotStatus:
    return (await catalog.get_slot(ctx, slot_id=slot_id)).status_at(ctx.clock.now())


async def test_a_new_hold_supersedes_the_previous_one(ctx: Context) -> None:
    _, (first, second, *_) = await builders.provider_with_slots(ctx, first=DAY)
    alice = await builders.customer(ctx)
    old = (await holds.place_hold(ctx, slot_id=first.id, customer_id=alice.id)).hold
    await holds.place_hold(ctx, slot_id=second.id, customer_id=alice.id)
    seen = await stored(ctx, old.id)
    assert (seen.status, seen.release_reason) == (HoldStatus.RELEASED, ReleaseReason.SUPERSEDED)


async def test_a_superseded_holds_slot_is_on_sale_again(ctx: Context) -> None:
    _, (first, second, *_) = await builders.provider_with_slots(ctx, first=DAY)
    alice, bob = await builders.customer(ctx), await builders.customer(ctx)
    await holds.place_hold(ctx, slot_id=first.id, customer_id=alice.id)
    await holds.place_hold(ctx, slot_id=second.id, customer_id=alice.id)
    assert await slot_status(ctx, first.id) is SlotStatus.AVAILABLE
    assert (await holds.place_hold(ctx, slot_id=first.id, customer_id=bob.id)).created


async def test_a_refused_hold_leaves_the_previous_one_alone(ctx: Context) -> None:
    _, (first, taken, *_) = await builders.provider_with_slots(ctx, first=DAY)
    alice, bob = await builders.customer(ctx), await builders.customer(ctx)
    old = (await holds.place_hold(ctx, slot_id=first.id, customer_id=alice.id)).hold
    await holds.place_hold(ctx, slot_id=taken.id, customer_id=bob.id)
    with pytest.raises(SlotUnavailable):
        await holds.place_hold(ctx, slot_id=taken.id, customer_id=alice.id)
    assert (await stored(ctx, old.id)).status is HoldStatus.ACTIVE
    assert await slot_status(ctx, first.id) is SlotStatus.HELD


async def test_superseding_a_previous_hold_that_had_expired_records_expired(
    ctx: Context, clock: ManualClock
) -> None:
    _, (first, second, *_) = await builders.provider_with_slots(ctx, first=DAY)
    alice = await builders.customer(ctx)
    old = (await holds.place_hold(ctx, slot_id=first.id, customer_id=alice.id)).hold
    clock.advance(TTL)
    await holds.place_hold(ctx, slot_id=second.id, customer_id=alice.id)
    seen = await stored(ctx, old.id)
    assert (seen.status, seen.release_reason) == (HoldStatus.RELEASED, ReleaseReason.EXPIRED)


async def test_a_customer_retakes_their_own_expired_slot_as_a_new_hold(
    ctx: Context, clock: ManualClock
) -> None:
    _, (slot, *_) = await builders.provider_with_slots(ctx, first=DAY)
    alice = await builders.customer(ctx)
    old = (await holds.place_hold(ctx, slot_id=slot.id, customer_id=alice.id)).hold
    clock.advance(TTL)
    again = await holds.place_hold(ctx, slot_id=slot.id, customer_id=alice.id)
    assert again.created
    assert again.hold.id != old.id
    assert again.hold.expires_at == clock.now() + timedelta(seconds=TTL)
    seen = await stored(ctx, old.id)
    assert (seen.status, seen.release_reason) == (HoldStatus.RELEASED, ReleaseReason.EXPIRED)


async def test_superseding_a_hold_whose_slot_was_taken_over_leaves_the_new_holder_alone(
    ctx: Context, clock: ManualClock
) -> None:
    _, (first, second, *_) = await builders.provider_with_slots(ctx, first=DAY)
    alice, bob = await builders.customer(ctx), await builders.customer(ctx)
    await holds.place_hold(ctx, slot_id=first.id, customer_id=alice.id)
    clock.advance(TTL)
    bobs = (await holds.place_hold(ctx, slot_id=first.id, customer_id=bob.id)).hold
    assert (await holds.place_hold(ctx, slot_id=second.id, customer_id=alice.id)).created
    assert (await stored(ctx, bobs.id)).status is HoldStatus.ACTIVE
    slot = await catalog.get_slot(ctx, slot_id=first.id)
    assert (slot.status, slot.hold_id) == (SlotStatus.HELD, bobs.id)
