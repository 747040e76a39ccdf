"""Holds: lock a slot for a customer, read it back, cancel it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from uuid import UUID

from slotbook.adapters.db.repos import holds as hold_repo
from slotbook.adapters.db.repos.hold_writes import release_hold
from slotbook.domain.errors import HoldNotActive, HoldNotFound, SlotNotFound, SlotUnavailable
from slotbook.domain.holds import Hold, hold_expiry
from slotbook.domain.ports import LockRequest
from slotbook.domain.slots import Slot
from slotbook.domain.states import HoldStatus, ReleaseReason, SlotStatus
from slotbook.domain.suggestions import rank_suggestions
from slotbook.service_layer.context import Context


@dataclass(frozen=True, slots=True)
class HoldPlaced:
    hold: Hold
    created: bool  # False: the customer already held this slot and gets the same hold back


async def place_hold(ctx: Context, *, slot_id: UUID, customer_id: UUID) -> HoldPlaced:
    """Lock the slot for the customer in one atomic step, or raise SlotUnavailable.

    The same customer asking again for the slot it holds gets the same hold back. A
    refused hold leaves the customer's previous hold alone.
    """
    now = ctx.clock.now()
    request = LockRequest(
        hold_id=uuid.uuid4(),
        slot_id=slot_id,
        customer_id=customer_id,
        now=now,
        expires_at=hold_expiry(now, ctx.settings.hold_ttl_seconds),
    )
    result = await ctx.hold_store.try_lock(request)
    if result.hold is not None:
        return HoldPlaced(result.hold, created=True)
    slot, current = result.slot, result.holder
    if not result.inspected or (slot is not None and slot.is_bookable(now)):
        # not read by the attempt, or read before a racer's commit: look again
        slot, current = await ctx.hold_store.inspect(slot_id)
    if slot is None:
        raise SlotNotFound(f"no slot {slot_id}")
    if current is not None and current.customer_id == customer_id and current.is_live(now):
        return HoldPlaced(current, created=False)
    offers = ctx.recent_alternatives.get(slot_id, now)
    if offers is None:
        limit = ctx.settings.suggestion_limit
        found = await ctx.hold_store.alternatives(slot, now=now, limit=limit)
        offers = rank_suggestions(slot.starts_at, found, limit=limit)
        ctx.recent_alternatives.put(slot_id, now, offers)
    raise SlotUnavailable(_why_unavailable(slot, ctx), slot_id=str(slot_id), suggestions=offers)


def _why_unavailable(slot: Slot, ctx: Context) -> str:
    now = ctx.clock.now()
    if slot.starts_at <= now:
        return "the slot has already started"
    status = slot.status_at(now)
    if status is SlotStatus.HELD:
        return "the slot is held by another customer"
    if status is SlotStatus.BOOKED:
        return "the slot is already booked"
    if status is SlotStatus.CLOSED:
        return "the slot is closed"
    return "the slot was just taken by another customer"


async def get_hold(ctx: Context, *, hold_id: UUID, customer_id: UUID) -> Hold:
    """The customer's own hold as it reads now; another customer's answers HoldNotFound."""
    async with ctx.db.read() as conn:
        hold = await hold_repo.get_hold(conn, hold_id)
    if hold is None or hold.customer_id != customer_id:
        raise HoldNotFound(f"no hold {hold_id}")
    return hold.as_seen_at(ctx.clock.now())


async def cancel_hold(ctx: Context, *, hold_id: UUID, customer_id: UUID) -> Hold:
    """Release the customer's hold at once and free its slot; a confirmed hold stays."""
    now = ctx.clock.now()
    async with ctx.db.write() as conn:
        hold = await hold_repo.get_hold(conn, hold_id)
        if hold is None or hold.customer_id != customer_id:
            raise HoldNotFound(f"no hold {hold_id}")
        if hold.status is HoldStatus.CONFIRMED:
            raise HoldNotActive("the hold is already confirmed; cancel the booking instead")
        if hold.status is HoldStatus.RELEASED:
            return hold
        reason = ReleaseReason.EXPIRED if hold.is_expired(now) else ReleaseReason.CANCELLED
        released = hold.release(reason)
        if not await release_hold(conn, released, now=now):
            raise HoldNotActive("the hold changed while it was being cancelled; try again")
    return released
