"""Releasing holds: one at a time (cancel) and in batches (the sweeper)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from slotbook.adapters.db.tables import holds, slots
from slotbook.domain.holds import Hold
from slotbook.domain.states import HoldStatus, ReleaseReason, SlotStatus

FREE_SLOT = {"status": SlotStatus.AVAILABLE, "hold_id": None, "held_until": None}


def released(reason: object, now: datetime) -> dict[str, object]:
    """A hold's columns once released: it leaves the unique `active_` indexes."""
    return {
        "status": HoldStatus.RELEASED,
        "release_reason": reason,
        "released_at": now,
        "active_slot_id": None,
        "active_customer_id": None,
    }


async def free_slot(conn: AsyncConnection, *, slot_id: UUID, hold_id: UUID) -> None:
    """Put the slot back on sale, if that hold is still the one holding it."""
    await conn.execute(
        update(slots)
        .where(slots.c.id == slot_id, slots.c.hold_id == hold_id, slots.c.status == SlotStatus.HELD)
        .values(FREE_SLOT)
    )


async def release_hold(conn: AsyncConnection, released_hold: Hold, *, now: datetime) -> bool:
    """Persist an already-released hold, only if it is still active; free its slot.

    Returns False when the hold was no longer active (someone else moved it first).
    """
    assert released_hold.status is HoldStatus.RELEASED
    done = await conn.execute(
        update(holds)
        .where(holds.c.id == released_hold.id, holds.c.status == HoldStatus.ACTIVE)
        .values(released(released_hold.release_reason, now))
    )
    if done.rowcount != 1:
        return False
    await free_slot(conn, slot_id=released_hold.slot_id, hold_id=released_hold.id)
    return True


async def release_expired(conn: AsyncConnection, *, now: datetime, batch: int) -> list[UUID]:
    """Release up to `batch` holds whose time ran out, freeing their slots.

    Rows are locked slot first, then hold (the hold path's order), and both with SKIP
    LOCKED: a sweeper never waits, so any number of them can run beside the hold path
    without deadlock; whatever one skips, the next pass or the hold path's takeover gets.
    """
    due = (
        await conn.execute(
            select(holds.c.id, holds.c.slot_id)
            .where(holds.c.active_slot_id.is_not(None), holds.c.expires_at <= now)
            .order_by(holds.c.expires_at)
            .limit(batch)
        )
    ).all()
    if not due:
        return []
    slot_ids = (
        await conn.scalars(
            select(slots.c.id)
            .where(
                slots.c.id.in_([d.slot_id for d in due]),
                slots.c.hold_id.in_([d.id for d in due]),
                slots.c.status == SlotStatus.HELD,
            )
            .with_for_update(skip_locked=True)
        )
    ).all()
    hold_ids = (
        await conn.scalars(
            select(holds.c.id)
            .where(
                holds.c.slot_id.in_(slot_ids),
                holds.c.id.in_([d.id for d in due]),
                holds.c.status == HoldStatus.ACTIVE,
                holds.c.expires_at <= now,
            )
            .with_for_update(skip_locked=True)
        )
    ).all()
    if not hold_ids:
        return []
    await conn.execute(
        update(slots)
        .where(slots.c.hold_id.in_(hold_ids), slots.c.id.in_(slot_ids))
        .values(FREE_SLOT)
    )
    await conn.execute(
        update(holds).where(holds.c.id.in_(hold_ids)).values(released(ReleaseReason.EXPIRED, now))
    )
    return list(hold_ids)
