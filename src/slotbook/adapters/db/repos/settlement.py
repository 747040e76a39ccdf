"""The writes that turn a paid hold into a booked slot (rows locked by the caller, in the
order of adapters/db/locking.py)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import bindparam, insert, update
from sqlalchemy.ext.asyncio import AsyncConnection

from slotbook.adapters.db.hold_lock import hold_row
from slotbook.adapters.db.repos import outbox
from slotbook.adapters.db.repos.hold_writes import released
from slotbook.adapters.db.tables import holds, slots
from slotbook.domain.errors import IllegalTransition
from slotbook.domain.holds import Hold
from slotbook.domain.states import HoldStatus, ReleaseReason, SlotStatus

_CONFIRM_HOLD = (
    update(holds)
    .where(holds.c.id == bindparam("b_hold_id"), holds.c.status == HoldStatus.ACTIVE)
    .values(status=HoldStatus.CONFIRMED, active_slot_id=None, active_customer_id=None)
)
_BOOK_SLOT = (
    update(slots)
    .where(
        slots.c.id == bindparam("b_slot_id"),
        slots.c.hold_id == bindparam("b_hold_id"),
        slots.c.status == SlotStatus.HELD,
    )
    .values(status=SlotStatus.BOOKED, held_until=None)
)


async def confirm_hold(conn: AsyncConnection, hold: Hold) -> None:
    """The live hold becomes confirmed and its slot booked (both locked, checked live)."""
    done = await conn.execute(_CONFIRM_HOLD, {"b_hold_id": hold.id})
    booked = await conn.execute(_BOOK_SLOT, {"b_slot_id": hold.slot_id, "b_hold_id": hold.id})
    if done.rowcount != 1 or booked.rowcount != 1:
        raise IllegalTransition("the hold or its slot moved under the confirming locks")


async def book_free_slot(
    conn: AsyncConnection, *, slot_id: UUID, booked_by: Hold, now: datetime
) -> None:
    """A free slot (locked) goes straight to `booked_by`, a confirmed hold written here;
    an expired hold still on the slot is released as expired first, with the obligation
    to withdraw its pending payments, as every release."""
    assert booked_by.status is HoldStatus.CONFIRMED
    expired = await conn.scalars(
        update(holds)
        .where(holds.c.active_slot_id == slot_id, holds.c.expires_at <= now)
        .values(released(ReleaseReason.EXPIRED, now))
        .returning(holds.c.id)
    )
    await outbox.oblige_withdrawal(conn, expired.all(), now=now)
    await conn.execute(insert(holds).values(**hold_row(booked_by)))
    booked = await conn.execute(
        update(slots)
        .where(
            slots.c.id == slot_id,
            slots.c.starts_at > now,
            slots.c.status.in_((SlotStatus.AVAILABLE, SlotStatus.HELD)),
        )
        .values(status=SlotStatus.BOOKED, hold_id=booked_by.id, held_until=None)
    )
    if booked.rowcount != 1:
        raise IllegalTransition("the slot was not free under the confirming locks")


async def free_booked_slot(conn: AsyncConnection, *, slot_id: UUID, hold_id: UUID) -> None:
    """A cancelled booking's slot goes back on sale (if it still belongs to that hold)."""
    await conn.execute(
        update(slots)
        .where(
            slots.c.id == slot_id, slots.c.hold_id == hold_id, slots.c.status == SlotStatus.BOOKED
        )
        .values(status=SlotStatus.AVAILABLE, hold_id=None, held_until=None)
    )
