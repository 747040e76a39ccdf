"""Saved bookings (the booking queue): save a slot without locking it, list the saved ones
as their slots read now, check one out later through the hold service, delete.

A customer sees and touches only their own: another customer's saved booking answers
SavedBookingNotFound, as an unknown one does.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from uuid import UUID

from slotbook.adapters.db.repos import catalog
from slotbook.adapters.db.repos import saved_bookings as repo
from slotbook.domain.errors import SavedBookingNotFound, SlotNotFound, SlotStarted, TooManySaved
from slotbook.domain.saved_bookings import MAX_SAVED_PER_CUSTOMER, SavedBooking
from slotbook.domain.slots import Slot
from slotbook.service_layer import holds
from slotbook.service_layer.context import Context


@dataclass(frozen=True, slots=True)
class Saved:
    saved: SavedBooking
    slot: Slot
    created: bool  # False: the customer had saved this slot already, and gets that one back


async def save(
    ctx: Context,
    *,
    customer_id: UUID,
    slot_id: UUID,
    note: str | None,
    saved_id: UUID | None = None,
) -> Saved:
    """Save the slot for later, locking nothing. Saving a slot saved before answers the
    earlier saved booking (its note unchanged). Refused: an unknown slot, one that has
    started, and more than MAX_SAVED_PER_CUSTOMER saved bookings."""
    now = ctx.clock.now()
    async with ctx.db.write() as conn:
        slot = await catalog.get_slot(conn, slot_id)
        if slot is None:
            raise SlotNotFound(f"no slot {slot_id}")
        earlier = await repo.find(conn, customer_id=customer_id, slot_id=slot_id)
        if earlier is not None:
            return Saved(earlier, slot, created=False)
        if slot.starts_at <= now:
            raise SlotStarted("the slot has already started")
        if await repo.count(conn, customer_id) >= MAX_SAVED_PER_CUSTOMER:
            raise TooManySaved(
                f"at most {MAX_SAVED_PER_CUSTOMER} saved bookings; delete some first"
            )
        saved = SavedBooking(
            id=saved_id or uuid.uuid4(),
            customer_id=customer_id,
            slot_id=slot_id,
            note=note or None,
            created_at=now,
        )
        if not await repo.add(conn, saved):  # saved at the same moment by another request
            found = await repo.find(conn, customer_id=customer_id, slot_id=slot_id)
            assert found is not None
            return Saved(found, slot, created=False)
    return Saved(saved, slot, created=True)


async def get_saved(ctx: Context, *, saved_id: UUID, customer_id: UUID) -> Saved:
    """The customer's own saved booking with its slot as it is now."""
    async with ctx.db.read() as conn:
        saved = await repo.get(conn, saved_id)
        if saved is None or saved.customer_id != customer_id:
            raise SavedBookingNotFound(f"no saved booking {saved_id}")
        slot = await catalog.get_slot(conn, saved.slot_id)
    assert slot is not None  # a saved slot is never deleted (its foreign key)
    return Saved(saved, slot, created=False)


async def list_saved(ctx: Context, *, customer_id: UUID) -> list[tuple[SavedBooking, Slot]]:
    """The customer's saved bookings, soonest slot first, each with its slot as it is now."""
    async with ctx.db.read() as conn:
        return await repo.list_with_slots(conn, customer_id)


async def checkout(
    ctx: Context, *, saved_id: UUID, customer_id: UUID, hold_id: UUID | None = None
) -> holds.HoldPlaced:
    """Hold the saved slot now, exactly as `holds.place_hold` does (SlotUnavailable with
    suggestions when it cannot). The saved booking stays until the customer deletes it."""
    found = await get_saved(ctx, saved_id=saved_id, customer_id=customer_id)
    return await holds.place_hold(
        ctx, slot_id=found.saved.slot_id, customer_id=customer_id, hold_id=hold_id
    )


async def delete_saved(ctx: Context, *, saved_id: UUID, customer_id: UUID) -> None:
    """Forget the customer's own saved booking; its slot is untouched."""
    async with ctx.db.write() as conn:
        if not await repo.remove(conn, saved_id=saved_id, customer_id=customer_id):
            raise SavedBookingNotFound(f"no saved booking {saved_id}")
