"""The sweeper releases expired holds, in batches, beside the hold path and other sweepers."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from uuid import UUID

from sqlalchemy import select, update

from slotbook.adapters.clock import ManualClock
from slotbook.adapters.db.repos.holds import get_hold
from slotbook.adapters.db.tables import holds as holds_table
from slotbook.adapters.db.tables import slots as slots_table
from slotbook.domain.holds import Hold
from slotbook.domain.slots import Slot
from slotbook.domain.states import HoldStatus, ReleaseReason, SlotStatus
from slotbook.service_layer import catalog, holds
from slotbook.service_layer.context import Context
from slotbook.service_layer.sweeper import release_expired_holds, sweep_once
from tests import builders
from tests.conftest import START

DAY = START + timedelta(days=1)
TTL = 600


async def held_by_new_customers(ctx: Context, slots: list[Slot]) -> list[Hold]:
    placed = []
    for slot in slots:
        customer = await builders.customer(ctx)
        placed.append((await holds.place_hold(ctx, slot_id=slot.id, customer_id=customer.id)).hold)
    return placed


async def stored(ctx: Context, hold_id: UUID) -> Hold:
    async with ctx.db.read() as conn:
        hold = await get_hold(conn, hold_id)
    assert hold is not None
    return hold


async def assert_released_expired(ctx: Context, hold_id: UUID) -> None:
    hold = await stored(ctx, hold_id)
    assert (hold.status, hold.release_reason) == (HoldStatus.RELEASED, ReleaseReason.EXPIRED)


async def test_the_sweeper_releases_expired_holds_and_frees_their_slots(
    ctx: Context, clock: ManualClock
) -> None:
    _, slots = await builders.provider_with_slots(ctx, first=DAY, count=6)
    placed = await held_by_new_customers(ctx, slots)
    clock.advance(TTL)
    assert sorted(await sweep_once(ctx)) == sorted(h.id for h in placed)
    for hold in placed:
        await assert_released_expired(ctx, hold.id)
    for slot in slots:
        freed = await catalog.get_slot(ctx, slot_id=slot.id)
        assert (freed.status, freed.hold_id) == (SlotStatus.AVAILABLE, None)


async def test_the_sweeper_leaves_unexpired_holds_alone(ctx: Context, clock: ManualClock) -> None:
    _, (early, late) = await builders.provider_with_slots(ctx, first=DAY, count=2)
    (first,) = await held_by_new_customers(ctx, [early])
    clock.advance(TTL / 2)
    (second,) = await held_by_new_customers(ctx, [late])
    clock.advance(TTL / 2)
    assert await sweep_once(ctx) == [first.id]
    assert (await stored(ctx, second.id)).status is HoldStatus.ACTIVE
    assert (await catalog.get_slot(ctx, slot_id=late.id)).status is SlotStatus.HELD


async def test_the_sweeper_works_through_more_than_one_batch(
    ctx: Context, clock: ManualClock
) -> None:
    _, slots = await builders.provider_with_slots(ctx, first=DAY, count=5)
    placed = await held_by_new_customers(ctx, slots)
    clock.advance(TTL)
    released = await release_expired_holds(ctx, batch=2)
    assert sorted(released) == sorted(h.id for h in placed)


async def test_concurrent_sweepers_release_each_hold_once(ctx: Context, clock: ManualClock) -> None:
    _, slots = await builders.provider_with_slots(ctx, first=DAY, count=12)
    await held_by_new_customers(ctx, slots)
    clock.advance(TTL)
    results = await asyncio.gather(*(sweep_once(ctx) for _ in range(4)))
    released = [hold_id for batch in results for hold_id in batch]
    assert len(released) == len(set(released)) == len(slots)


async def unlink_slot(ctx: Context, slot_id: UUID, status: SlotStatus) -> None:
    """A direct write: the slot stops pointing at the hold that holds it."""
    async with ctx.db.write() as conn:
        await conn.execute(
            update(slots_table)
            .where(slots_table.c.id == slot_id)
            .values(status=status, hold_id=None, held_until=None)
        )


async def test_an_expired_hold_its_slot_no_longer_points_at_is_released(
    ctx: Context, clock: ManualClock
) -> None:
    _, (slot,) = await builders.provider_with_slots(ctx, first=DAY, count=1)
    (orphan,) = await held_by_new_customers(ctx, [slot])
    await unlink_slot(ctx, slot.id, SlotStatus.AVAILABLE)
    clock.advance(TTL)
    assert await sweep_once(ctx) == [orphan.id]
    await assert_released_expired(ctx, orphan.id)
    bob = await builders.customer(ctx)
    assert (await holds.place_hold(ctx, slot_id=slot.id, customer_id=bob.id)).created


async def test_the_sweeper_frees_only_a_slot_that_still_points_at_the_hold(
    ctx: Context, clock: ManualClock
) -> None:
    _, (slot,) = await builders.provider_with_slots(ctx, first=DAY, count=1)
    (orphan,) = await held_by_new_customers(ctx, [slot])
    await unlink_slot(ctx, slot.id, SlotStatus.CLOSED)
    clock.advance(TTL)
    assert await sweep_once(ctx) == [orphan.id]
    assert (await catalog.get_slot(ctx, slot_id=slot.id)).status is SlotStatus.CLOSED


async def test_the_sweeper_racing_the_lock_on_the_same_expired_holds(
    ctx: Context, clock: ManualClock
) -> None:
    _, slots = await builders.provider_with_slots(ctx, first=DAY, count=10)
    old = await held_by_new_customers(ctx, slots)
    newcomers = [await builders.customer(ctx) for _ in slots]
    clock.advance(TTL)
    outcomes = await asyncio.gather(
        sweep_once(ctx),
        *(
            holds.place_hold(ctx, slot_id=s.id, customer_id=c.id)
            for s, c in zip(slots, newcomers, strict=True)
        ),
        sweep_once(ctx),
        return_exceptions=True,
    )
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    assert errors == []
    placed = [o.hold for o in outcomes if isinstance(o, holds.HoldPlaced)]
    assert len(placed) == len(slots)
    for hold in old:
        await assert_released_expired(ctx, hold.id)
    async with ctx.db.read() as conn:
        active = (
            await conn.execute(
                select(holds_table.c.slot_id, holds_table.c.id).where(
                    holds_table.c.status == HoldStatus.ACTIVE
                )
            )
        ).all()
        pointers = (await conn.execute(select(slots_table.c.id, slots_table.c.hold_id))).all()
    assert sorted((r.slot_id, r.id) for r in active) == sorted((h.slot_id, h.id) for h in placed)
    assert sorted((p.id, p.hold_id) for p in pointers) == sorted((h.slot_id, h.id) for h in placed)
