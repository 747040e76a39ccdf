"""Releasing holds: one at a time (cancel) and in batches (the sweeper)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from slotbook.adapters.db.tables import holds, slots
from slotbook.domain.holds import Hold
from slotbook.domain.states import HoldStatus, ReleaseReason, SlotStatus


async def release_hold(conn: AsyncConnection, released: Hold, *, now: datetime) -> bool:
    """Persist an already-released hold, only if it is still active; free its slot.

    Returns False when the hold was no longer active (someone else moved it first).
    """
    assert released.status is HoldStatus.RELEASED
    done = await conn.execute(
        update(holds)
        .where(holds.c.id == released.id, holds.c.status == HoldStatus.ACTIVE)
        .values(
            status=released.status,
            release_reason=released.release_reason,
            released_at=now,
            active_slot_id=None,
            active_customer_id=None,
        )
    )
    if done.rowcount != 1:
        return False
    await conn.execute(
        update(slots)
        .where(
            slots.c.id == released.slot_id,
            slots.c.hold_id == released.id,
            slots.c.status == SlotStatus.HELD,
        )
        .values(status=SlotStatus.AVAILABLE, hold_id=None, held_until=None)
    )
    return True


async def release_expired(conn: AsyncConnection, *, now: datetime, batch: int) -> list[UUID]:
    """Release up to `batch` holds whose time ran out, freeing their slots.

    Slots are locked first and with SKIP LOCKED (same order as the hold path, so no
    deadlock), so any number of sweepers can run at once without waiting on each other.
    """
    due = (
        await conn.execute(
            select(slots.c.id, slots.c.hold_id)
            .where(slots.c.status == SlotStatus.HELD, slots.c.held_until <= now)
            .order_by(slots.c.held_until)
            .limit(batch)
            .with_for_update(skip_locked=True)
        )
    ).all()
    if not due:
        return []
    await conn.execute(
        update(slots)
        .where(slots.c.id.in_([d.id for d in due]), slots.c.status == SlotStatus.HELD)
        .values(status=SlotStatus.AVAILABLE, hold_id=None, held_until=None)
    )
    expired = await conn.execute(
        update(holds)
        .where(
            holds.c.id.in_([d.hold_id for d in due]),
            holds.c.status == HoldStatus.ACTIVE,
            holds.c.expires_at <= now,
        )
        .values(
            status=HoldStatus.RELEASED,
            release_reason=ReleaseReason.EXPIRED,
            released_at=now,
            active_slot_id=None,
            active_customer_id=None,
        )
        .returning(holds.c.id)
    )
    return [row.id for row in expired]
