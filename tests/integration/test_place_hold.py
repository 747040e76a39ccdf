"""Placing holds through the service layer, on SQLite and PostgreSQL, with a manual clock."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from slotbook.adapters.clock import ManualClock
from slotbook.adapters.db.repos.holds import get_hold
from slotbook.adapters.db.tables import holds as holds_table
from slotbook.domain.errors import SlotNotFound, SlotUnavailable
from slotbook.domain.holds import hold_expiry
from slotbook.domain.ports import LockRequest
from slotbook.domain.states import HoldStatus, ReleaseReason, SlotStatus
from slotbook.domain.suggestions import SuggestionKind, rank_suggestions
from slotbook.service_layer import catalog, holds
from slotbook.service_layer.context import Context
from tests import builders
from tests.conftest import START

DAY = START + timedelta(days=1)


async def slot_status(ctx: Context, slot_id: object) -> SlotStatus:
    slot = await catalog.get_slot(ctx, slot_id=slot_id)  # type: ignore[arg-type]
    return slot.status_at(ctx.clock.now())


async def test_a_hold_locks_the_slot_for_the_ttl(ctx: Context) -> None:
    _, (slot, *_) = await builders.provider_with_slots(ctx, first=DAY)
    alice = await builders.customer(ctx)
    placed = await holds.place_hold(ctx, slot_id=slot.id, customer_id=alice.id)
    hold = placed.hold
    assert placed.created
    assert (hold.status, hold.slot_id, hold.customer_id) == (HoldStatus.ACTIVE, slot.id, alice.id)
    assert hold.expires_at == START + timedelta(seconds=600)
    assert (hold.amount_minor, hold.currency) == (slot.price_minor, "THB")
    assert await slot_status(ctx, slot.id) is SlotStatus.HELD
    assert await holds.get_hold(ctx, hold_id=hold.id, customer_id=alice.id) == hold


async def test_asking_again_for_your_own_slot_gives_the_same_hold(ctx: Context) -> None:
    _, (slot, *_) = await builders.provider_with_slots(ctx, first=DAY)
    alice = await builders.customer(ctx)
    first = await holds.place_hold(ctx, slot_id=slot.id, customer_id=alice.id)
    again = await holds.place_hold(ctx, slot_id=slot.id, customer_id=alice.id)
    assert not again.created
    assert again.hold.id == first.hold.id


async def test_a_held_slot_is_refused_with_nearby_alternatives(ctx: Context) -> None:
    _, (slot, later, *_) = await builders.provider_with_slots(ctx, first=DAY, count=3)
    other_provider, (rival, *_) = await builders.provider_with_slots(
        ctx, first=DAY + timedelta(minutes=30), count=2
    )
    await builders.provider_with_slots(ctx, category="dental", first=DAY, count=2)
    alice, bob = await builders.customer(ctx), await builders.customer(ctx)
    await holds.place_hold(ctx, slot_id=slot.id, customer_id=alice.id)
    with pytest.raises(SlotUnavailable) as refused:
        await holds.place_hold(ctx, slot_id=slot.id, customer_id=bob.id)
    offers = refused.value.suggestions
    assert 1 <= len(offers) <= 5
    assert slot.id not in {o.slot_id for o in offers}
    assert offers[0].slot_id == rival.id  # 30 minutes away beats 60
    assert offers[0].kind is SuggestionKind.OTHER_PROVIDER
    assert offers[0].provider_id == other_provider
    assert offers[1].slot_id == later.id
    assert offers[1].kind is SuggestionKind.SAME_PROVIDER
    distances = [abs(o.starts_at - slot.starts_at) for o in offers]
    assert distances == sorted(distances)
    assert all(o.currency == "THB" for o in offers)


async def test_suggestions_leave_out_slots_that_are_not_free(ctx: Context) -> None:
    _, (slot, taken, free) = await builders.provider_with_slots(ctx, first=DAY, count=3)
    alice, bob, carol = [await builders.customer(ctx) for _ in range(3)]
    await holds.place_hold(ctx, slot_id=slot.id, customer_id=alice.id)
    await holds.place_hold(ctx, slot_id=taken.id, customer_id=bob.id)
    with pytest.raises(SlotUnavailable) as refused:
        await holds.place_hold(ctx, slot_id=slot.id, customer_id=carol.id)
    assert [o.slot_id for o in refused.value.suggestions] == [free.id]


async def test_an_unknown_slot_is_not_found(ctx: Context) -> None:
    alice = await builders.customer(ctx)
    with pytest.raises(SlotNotFound):
        await holds.place_hold(ctx, slot_id=alice.id, customer_id=alice.id)


async def test_a_slot_that_has_started_is_refused(ctx: Context, clock: ManualClock) -> None:
    _, (slot, *_) = await builders.provider_with_slots(ctx, first=DAY, count=1)
    alice = await builders.customer(ctx)
    clock.set(slot.starts_at)
    with pytest.raises(SlotUnavailable, match="already started"):
        await holds.place_hold(ctx, slot_id=slot.id, customer_id=alice.id)


async def test_among_concurrent_attempts_exactly_one_wins(ctx: Context) -> None:
    _, (slot, *_) = await builders.provider_with_slots(ctx, first=DAY, count=3)
    customers = [await builders.customer(ctx) for _ in range(30)]
    outcomes = await asyncio.gather(
        *(holds.place_hold(ctx, slot_id=slot.id, customer_id=c.id) for c in customers),
        return_exceptions=True,
    )
    winners = [o for o in outcomes if isinstance(o, holds.HoldPlaced)]
    refused = [o for o in outcomes if isinstance(o, SlotUnavailable)]
    assert len(winners) == 1
    assert len(refused) == 29
    assert all(r.suggestions for r in refused)


async def test_a_hold_blocks_others_until_its_last_moment(ctx: Context, clock: ManualClock) -> None:
    _, (slot, *_) = await builders.provider_with_slots(ctx, first=DAY)
    alice, bob = await builders.customer(ctx), await builders.customer(ctx)
    await holds.place_hold(ctx, slot_id=slot.id, customer_id=alice.id)
    clock.advance(599)
    with pytest.raises(SlotUnavailable):
        await holds.place_hold(ctx, slot_id=slot.id, customer_id=bob.id)


async def test_an_expired_hold_reads_released_and_its_slot_available_before_any_sweep(
    ctx: Context, clock: ManualClock
) -> None:
    _, (slot, *_) = await builders.provider_with_slots(ctx, first=DAY)
    alice = await builders.customer(ctx)
    old = (await holds.place_hold(ctx, slot_id=slot.id, customer_id=alice.id)).hold
    clock.advance(600)
    assert await slot_status(ctx, slot.id) is SlotStatus.AVAILABLE
    seen = await holds.get_hold(ctx, hold_id=old.id, customer_id=alice.id)
    assert (seen.status, seen.release_reason) == (HoldStatus.RELEASED, ReleaseReason.EXPIRED)


async def test_taking_over_an_expired_hold_marks_it_expired_in_storage(
    ctx: Context, clock: ManualClock
) -> None:
    _, (slot, *_) = await builders.provider_with_slots(ctx, first=DAY)
    alice, bob = await builders.customer(ctx), await builders.customer(ctx)
    old = (await holds.place_hold(ctx, slot_id=slot.id, customer_id=alice.id)).hold
    clock.advance(600)
    assert (await holds.place_hold(ctx, slot_id=slot.id, customer_id=bob.id)).created
    assert await slot_status(ctx, slot.id) is SlotStatus.HELD
    async with ctx.db.read() as conn:
        stored = await get_hold(conn, old.id)
    assert stored is not None
    assert (stored.status, stored.release_reason) == (HoldStatus.RELEASED, ReleaseReason.EXPIRED)


async def test_a_hold_taken_just_before_the_start_ends_at_the_start(
    ctx: Context, clock: ManualClock
) -> None:
    _, (slot, *_) = await builders.provider_with_slots(ctx, first=DAY)
    clock.set(slot.starts_at - timedelta(seconds=3))
    alice = await builders.customer(ctx)
    hold = (await holds.place_hold(ctx, slot_id=slot.id, customer_id=alice.id)).hold
    assert hold.expires_at == slot.starts_at
    assert (await holds.get_hold(ctx, hold_id=hold.id, customer_id=alice.id)) == hold
    assert (await catalog.get_slot(ctx, slot_id=slot.id)).held_until == slot.starts_at


async def test_a_suggested_slot_held_since_is_no_longer_offered(ctx: Context) -> None:
    _, (slot, near, far) = await builders.provider_with_slots(ctx, first=DAY, count=3)
    alice, bob, carol, dave = [await builders.customer(ctx) for _ in range(4)]
    await holds.place_hold(ctx, slot_id=slot.id, customer_id=alice.id)
    with pytest.raises(SlotUnavailable) as first:
        await holds.place_hold(ctx, slot_id=slot.id, customer_id=bob.id)
    assert [o.slot_id for o in first.value.suggestions] == [near.id, far.id]
    await holds.place_hold(ctx, slot_id=near.id, customer_id=carol.id)
    with pytest.raises(SlotUnavailable) as second:  # within the remembered list's second
        await holds.place_hold(ctx, slot_id=slot.id, customer_id=dave.id)
    assert [o.slot_id for o in second.value.suggestions] == [far.id]


async def test_only_the_nearest_alternatives_come_back_ties_broken_as_ranked(
    ctx: Context,
) -> None:
    """The store may pre-rank and cut its candidates; what it returns, ranked, is the
    ranking of every free candidate: nearest first, then the same provider, the earlier
    slot, the slot id."""
    hour, half = timedelta(hours=1), timedelta(minutes=30)
    _, (before, target, after) = await builders.provider_with_slots(ctx, first=DAY, count=3)
    _, (tied_later,) = await builders.provider_with_slots(ctx, first=DAY + 2 * hour, count=1)
    _, (nearest,) = await builders.provider_with_slots(ctx, first=DAY + half, count=1)
    _, (near_later,) = await builders.provider_with_slots(ctx, first=DAY + hour + half, count=1)
    far = [
        (await builders.provider_with_slots(ctx, first=DAY + 3 * hour, count=1))[1][0]
        for _ in range(3)
    ]
    await builders.provider_with_slots(ctx, category="dental", first=DAY + hour, count=1)
    first_far = min(far, key=lambda s: str(s.id))
    expected = [nearest, near_later, before, after, tied_later, first_far]
    for limit in (3, 6):  # each cut falls inside a tie
        found = await ctx.hold_store.alternatives(target, now=START, limit=limit)
        ranked = rank_suggestions(target.starts_at, found, limit=limit)
        assert [s.slot_id for s in ranked] == [s.id for s in expected[:limit]]


async def test_a_hold_is_never_released_before_it_was_made(ctx: Context) -> None:
    """A customer's request that read the clock before another process made her hold
    supersedes that hold at its making, not before it: alone, and (on PostgreSQL) in a
    batch with another customer's request."""
    _, slots = await builders.provider_with_slots(ctx, first=DAY, count=5)
    alice, bob, carol = [await builders.customer(ctx) for _ in range(3)]
    now = ctx.clock.now()
    later = now + timedelta(seconds=5)

    def request(slot: int, customer: uuid.UUID, at: datetime) -> LockRequest:
        expires = hold_expiry(at, ctx.settings.hold_ttl_seconds)
        return LockRequest(uuid.uuid4(), slots[slot].id, customer, at, expires)

    async def release_of(hold_id: uuid.UUID) -> tuple[object, ...]:
        async with ctx.db.read() as conn:
            row = (
                await conn.execute(
                    select(
                        holds_table.c.release_reason,
                        holds_table.c.released_at,
                        holds_table.c.created_at,
                    ).where(holds_table.c.id == hold_id)
                )
            ).one()
        return tuple(row)

    alone, batched = request(0, alice.id, later), request(1, carol.id, later)
    for made in (alone, batched):
        assert (await ctx.hold_store.try_lock(made)).hold is not None
    assert (await ctx.hold_store.try_lock(request(2, alice.id, now))).hold is not None
    wave = (request(3, carol.id, now), request(4, bob.id, now))
    answers = await asyncio.gather(*(ctx.hold_store.try_lock(r) for r in wave))
    assert all(a.hold is not None for a in answers)
    for made in (alone, batched):
        assert await release_of(made.hold_id) == (ReleaseReason.SUPERSEDED, later, later)
