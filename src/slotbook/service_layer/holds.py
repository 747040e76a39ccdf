"""Holds: lock a slot for a customer, read it back, cancel it.

A refusal always tells the truth: a slot that reads free is never refused as taken (the
lock is tried again), a customer whose account is gone is told so, and a customer whose
own holds kept crossing is asked to retry (HoldContended) rather than told the slot is
someone else's. One customer's holds take turns within this process.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from slotbook.adapters.db.repos import catalog as catalog_repo
from slotbook.adapters.db.repos import holds as hold_repo
from slotbook.adapters.db.repos.hold_writes import lock_for_release, release_hold
from slotbook.domain.errors import (
    AccountGone,
    HoldContended,
    HoldNotActive,
    HoldNotFound,
    SlotNotFound,
    SlotUnavailable,
)
from slotbook.domain.holds import Hold, hold_expiry
from slotbook.domain.ports import Inspection, LockRequest
from slotbook.domain.slots import Slot
from slotbook.domain.states import HoldStatus, ReleaseReason, SlotStatus
from slotbook.domain.suggestions import Suggestion, rank_suggestions
from slotbook.service_layer.context import Context

# a refused attempt that finds the slot free on a second look tries again, this often
LOCK_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class HoldPlaced:
    hold: Hold
    created: bool  # False: the customer already held this slot and gets the same hold back


async def place_hold(
    ctx: Context, *, slot_id: UUID, customer_id: UUID, hold_id: UUID | None = None
) -> HoldPlaced:
    """Lock the slot for the customer in one atomic step, or raise SlotUnavailable.

    The same customer asking again for the slot it holds gets the same hold back. A
    refused hold leaves the customer's previous hold alone. `hold_id` is the new hold's id
    when the caller chose it beforehand (an idempotent request), else a new one. Raises
    AccountGone for a customer that no longer exists, HoldContended (retry) when the
    customer's own holds kept crossing.
    """
    now = ctx.clock.now()
    request = LockRequest(
        hold_id=hold_id or uuid.uuid4(),
        slot_id=slot_id,
        customer_id=customer_id,
        now=now,
        expires_at=hold_expiry(now, ctx.settings.hold_ttl_seconds),
    )
    outcome = await _lock_in_turn(ctx, request)
    if isinstance(outcome, HoldPlaced):
        return outcome
    offers = await _alternatives(ctx, outcome, now)
    raise SlotUnavailable(_why_unavailable(outcome, now), slot_id=str(slot_id), suggestions=offers)


async def _lock_in_turn(ctx: Context, request: LockRequest) -> HoldPlaced | Slot:
    """The lock, once the customer's earlier holds in this process are done; the slot
    when it is refused."""
    turns, customer_id = ctx.hold_turns, request.customer_id
    try:
        await turns.take(customer_id, wait_seconds=ctx.settings.db_pool_timeout_seconds)
    except TimeoutError:
        raise HoldContended("too many holds of yours at once; retry shortly") from None
    try:
        return await _lock(ctx, request)
    finally:
        turns.done(customer_id)


async def _lock(ctx: Context, r: LockRequest) -> HoldPlaced | Slot:
    """Try the lock; a refusal is checked against a fresh look at the slot."""
    for _ in range(LOCK_ATTEMPTS):
        result = await ctx.hold_store.try_lock(r)
        if result.hold is not None:
            ctx.recent_alternatives.withdraw(r.slot_id)
            return HoldPlaced(result.hold, created=True)
        seen = result.seen
        if seen is None or _free(seen, r.now):
            # not read by the attempt, or read before a racer's commit: look again
            seen = await ctx.hold_store.inspect(r.slot_id, r.customer_id)
        if not seen.customer_known:
            raise AccountGone("the account no longer exists")
        if seen.slot is None:
            raise SlotNotFound(f"no slot {r.slot_id}")
        holder = seen.holder
        if holder is not None and holder.customer_id == r.customer_id and holder.is_live(r.now):
            return HoldPlaced(holder, created=False)
        if not _free(seen, r.now):
            return seen.slot
    raise HoldContended("the slot changed hands while it was being held; retry")


def _free(seen: Inspection, now: datetime) -> bool:
    """Free to hold as this read saw it: the slot reads available and no live hold is on it."""
    holder = seen.holder
    bookable = seen.slot is not None and seen.slot.is_bookable(now)
    return bookable and (holder is None or not holder.is_live(now))


async def _alternatives(ctx: Context, slot: Slot, now: datetime) -> list[Suggestion]:
    limit = ctx.settings.suggestion_limit

    async def find() -> list[Suggestion]:
        found = await ctx.hold_store.alternatives(slot, now=now, limit=limit)
        return rank_suggestions(slot.starts_at, found, limit=limit)

    return await ctx.recent_alternatives.get_or_find(slot.id, now, find)


def _why_unavailable(slot: Slot, now: datetime) -> str:
    """Why a slot that is not free to hold is not: started, booked, closed, or else held
    (by a live hold, even where the slot's own row no longer says so)."""
    if slot.starts_at <= now:
        return "the slot has already started"
    status = slot.status_at(now)
    if status is SlotStatus.BOOKED:
        return "the slot is already booked"
    if status is SlotStatus.CLOSED:
        return "the slot is closed"
    return "the slot is held by another customer"


async def get_hold(ctx: Context, *, hold_id: UUID, customer_id: UUID) -> Hold:
    """The customer's own hold as it reads now; another customer's answers HoldNotFound."""
    async with ctx.db.read() as conn:
        hold = await hold_repo.get_hold(conn, hold_id)
    if hold is None or hold.customer_id != customer_id:
        raise HoldNotFound(f"no hold {hold_id}")
    return hold.as_seen_at(ctx.clock.now())


async def cancel_hold(ctx: Context, *, hold_id: UUID, customer_id: UUID) -> Hold:
    """Release the customer's hold at once and free its slot; a confirmed hold stays.

    A hold that had already run out is released as expired; one released before (by a
    takeover, say) is answered as it is.
    """
    now = ctx.clock.now()
    async with ctx.db.write() as conn:
        seen = await hold_repo.get_hold(conn, hold_id)
        if seen is None or seen.customer_id != customer_id:
            raise HoldNotFound(f"no hold {hold_id}")
        hold = await lock_for_release(conn, seen)
        if hold.status is HoldStatus.CONFIRMED:
            raise HoldNotActive("the hold is already confirmed; cancel the booking instead")
        if hold.status is HoldStatus.RELEASED:
            return hold
        reason = ReleaseReason.EXPIRED if hold.is_expired(now) else ReleaseReason.CANCELLED
        released = hold.release(reason)
        if not await release_hold(conn, released, now=now):
            raise HoldNotActive("the hold changed while it was being cancelled; try again")
    return released


async def alternatives_for(ctx: Context, *, slot_id: UUID) -> list[Suggestion]:
    """The alternatives to a slot the customer could not keep (its hold ran out, or its
    payment failed), as a refused hold offers them."""
    async with ctx.db.read() as conn:
        slot = await catalog_repo.get_slot(conn, slot_id)
    if slot is None:
        return []
    return await _alternatives(ctx, slot, ctx.clock.now())
