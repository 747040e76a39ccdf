"""Releasing holds: one at a time (cancel) and in batches (the sweeper).

Every release also writes, in its own transaction, the obligation to withdraw the hold's
pending payments at the gateway (`outbox.oblige_withdrawal`), so nothing is forgotten if
the process dies right after the commit.

Every writer here keeps the lock order of `adapters/db/locking.py`: a hold's slot before
the hold.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from slotbook.adapters.db.locking import lock_slot
from slotbook.adapters.db.repos import outbox
from slotbook.adapters.db.repos.holds import get_hold
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


async def lock_for_release(conn: AsyncConnection, hold: Hold) -> Hold:
    """The hold as it stands once its slot is locked: from then on, until the transaction
    ends, no writer can move it (they all lock the slot first)."""
    await lock_slot(conn, hold.slot_id)
    current = await get_hold(conn, hold.id)
    assert current is not None, "holds are never deleted"
    return current


async def release_hold(conn: AsyncConnection, released_hold: Hold, *, now: datetime) -> bool:
    """Persist an already-released hold, only if it is still active; free its slot.

    The caller has locked the hold's slot (`lock_for_release`). Returns False when the
    hold was no longer active, which only a writer out of the lock order could cause. A
    hold is never released before it was made: a request that read the clock before
    another process made the hold it supersedes releases it at its making.
    """
    assert released_hold.status is HoldStatus.RELEASED
    done = await conn.execute(
        update(holds)
        .where(holds.c.id == released_hold.id, holds.c.status == HoldStatus.ACTIVE)
        .values(released(released_hold.release_reason, max(now, released_hold.created_at)))
    )
    if done.rowcount != 1:
        return False
    await free_slot(conn, slot_id=released_hold.slot_id, hold_id=released_hold.id)
    await outbox.oblige_withdrawal(conn, [released_hold.id], now=now)
    return True


async def release_expired(conn: AsyncConnection, *, now: datetime, batch: int) -> list[UUID]:
    """Release up to `batch` holds whose time ran out; free the slots still held by them.

    A due hold is released whether or not its slot still points at it (left active, it
    would read held in storage forever); its slot is freed only if it does. Locks follow
    the order (locking.py): the due holds' slots, then the holds, both SKIP LOCKED, so a
    sweeper never waits; what it skips, the next pass or the hold path's takeover gets.
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
            .where(slots.c.id.in_([d.slot_id for d in due]))
            .with_for_update(skip_locked=True)
        )
    ).all()
    expired = (
        await conn.execute(
            select(holds.c.id, holds.c.slot_id)
            .where(
                holds.c.id.in_([d.id for d in due]),
                holds.c.slot_id.in_(slot_ids),
                holds.c.active_slot_id.is_not(None),
                holds.c.expires_at <= now,
            )
            .with_for_update(skip_locked=True)
        )
    ).all()
    if not expired:
        return []
    hold_ids = [h.id for h in expired]
    await conn.execute(
        update(slots)
        .where(
            slots.c.id.in_([h.slot_id for h in expired]),  # the primary key finds them
            slots.c.hold_id.in_(hold_ids),  # still held by them (a slot only points at its own)
            slots.c.status == SlotStatus.HELD,
        )
        .values(FREE_SLOT)
    )
    await conn.execute(
        update(holds).where(holds.c.id.in_(hold_ids)).values(released(ReleaseReason.EXPIRED, now))
    )
    await outbox.oblige_withdrawal(conn, hold_ids, now=now)
    return hold_ids
