"""Releasing holds: cancel by the customer, expiry by the sweeper (any number at once)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from slotbook.adapters.clock import ManualClock
from slotbook.adapters.db.repos.holds import get_hold
from slotbook.domain.errors import HoldNotFound
from slotbook.domain.states import HoldStatus, ReleaseReason, SlotStatus
from slotbook.service_layer import catalog, holds
from slotbook.service_layer.context import Context
from slotbook.service_layer.sweeper import sweep_once
from tests import builders
from tests.conftest import START

DAY = START + timedelta(days=1)


async def test_cancel_releases_the_slot_at_once(ctx: Context) -> None:
    _, (slot, *_) = await builders.provider_with_slots(ctx, first=DAY)
    alice, bob = await builders.customer(ctx), await builders.customer(ctx)
    hold = (await holds.place_hold(ctx, slot_id=slot.id, customer_id=alice.id)).hold
    cancelled = await holds.cancel_hold(ctx, hold_id=hold.id, customer_id=alice.id)
    assert (cancelled.status, cancelled.release_reason) == (
        HoldStatus.RELEASED,
        ReleaseReason.CANCELLED,
    )
    assert (await catalog.get_slot(ctx, slot_id=slot.id)).status is SlotStatus.AVAILABLE
    assert (await holds.place_hold(ctx, slot_id=slot.id, customer_id=bob.id)).created
    again = await holds.cancel_hold(ctx, hold_id=hold.id, customer_id=alice.id)
    assert again.release_reason is ReleaseReason.CANCELLED


async def test_another_customers_hold_is_not_found(ctx: Context) -> None:
    _, (slot, *_) = await builders.provider_with_slots(ctx, first=DAY)
    alice, mallory = await builders.customer(ctx), await builders.customer(ctx)
    hold = (await holds.place_hold(ctx, slot_id=slot.id, customer_id=alice.id)).hold
    with pytest.raises(HoldNotFound):
        await holds.get_hold(ctx, hold_id=hold.id, customer_id=mallory.id)
    with pytest.raises(HoldNotFound):
        await holds.cancel_hold(ctx, hold_id=hold.id, customer_id=mallory.id)
    assert (await holds.get_hold(ctx, hold_id=hold.id, customer_id=alice.id)).status is (
        HoldStatus.ACTIVE
    )


async def test_the_sweeper_releases_expired_holds_and_frees_their_slots(
    ctx: Context, clock: ManualClock
) -> None:
    _, slots = await builders.provider_with_slots(ctx, first=DAY, count=6)
    customers = [await builders.customer(ctx) for _ in slots]
    placed = [
        (await holds.place_hold(ctx, slot_id=s.id, customer_id=c.id)).hold
        for s, c in zip(slots, customers, strict=True)
    ]
    clock.advance(300)
    assert await sweep_once(ctx) == []
    late = await builders.customer(ctx)
    extra_provider, (extra,) = await builders.provider_with_slots(ctx, first=DAY, count=1)
    fresh = (await holds.place_hold(ctx, slot_id=extra.id, customer_id=late.id)).hold
    clock.advance(300)
    released = await sweep_once(ctx)
    assert sorted(released) == sorted(h.id for h in placed)
    async with ctx.db.read() as conn:
        for hold in placed:
            stored = await get_hold(conn, hold.id)
            assert stored is not None
            assert (stored.status, stored.release_reason) == (
                HoldStatus.RELEASED,
                ReleaseReason.EXPIRED,
            )
        still = await get_hold(conn, fresh.id)
        assert still is not None
        assert still.status is HoldStatus.ACTIVE
    for slot in slots:
        stored_slot = await catalog.get_slot(ctx, slot_id=slot.id)
        assert (stored_slot.status, stored_slot.hold_id) == (SlotStatus.AVAILABLE, None)
    assert extra_provider is not None


async def test_concurrent_sweepers_release_each_hold_once(ctx: Context, clock: ManualClock) -> None:
    _, slots = await builders.provider_with_slots(ctx, first=DAY, count=12)
    for slot in slots:
        customer = await builders.customer(ctx)
        await holds.place_hold(ctx, slot_id=slot.id, customer_id=customer.id)
    clock.advance(600)
    results = await asyncio.gather(*(sweep_once(ctx) for _ in range(4)))
    released = [hold_id for batch in results for hold_id in batch]
    assert len(released) == len(set(released)) == len(slots)
