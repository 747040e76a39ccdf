"""The hold store, portable form: the lock is a few statements in one write transaction.

Used on SQLite, where a write transaction already has the database to itself (BEGIN
IMMEDIATE). The PostgreSQL form (`pg_hold_lock`) does the same in one statement.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import and_, case, insert, or_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from slotbook.adapters.db.engine import Database
from slotbook.adapters.db.repos import catalog, suggestions
from slotbook.adapters.db.repos import holds as hold_repo
from slotbook.adapters.db.repos.hold_writes import free_slot, released
from slotbook.adapters.db.tables import holds, slots
from slotbook.domain.holds import Hold
from slotbook.domain.ports import LockRequest, LockResult
from slotbook.domain.slots import Slot
from slotbook.domain.states import HoldStatus, ReleaseReason, SlotStatus
from slotbook.domain.suggestions import Suggestion


class SqlHoldStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def try_lock(self, request: LockRequest) -> LockResult:
        async with self._db.write() as conn:
            return LockResult(await lock_in(conn, request))

    async def inspect(self, slot_id: UUID) -> tuple[Slot | None, Hold | None]:
        async with self._db.read() as conn:
            slot = await catalog.get_slot(conn, slot_id)
            current = await hold_repo.active_hold_on_slot(conn, slot_id) if slot else None
        return slot, current

    async def alternatives(self, target: Slot, *, now: datetime, limit: int) -> list[Suggestion]:
        async with self._db.read() as conn:
            return await suggestions.candidates(conn, target, now=now, limit=limit)


async def lock_in(conn: AsyncConnection, r: LockRequest) -> Hold | None:
    """The hold's statements, in an open transaction: grant, take over, supersede, insert."""
    granted = (
        await conn.execute(
            update(slots)
            .where(
                slots.c.id == r.slot_id,
                slots.c.starts_at > r.now,
                or_(
                    slots.c.status == SlotStatus.AVAILABLE,
                    and_(slots.c.status == SlotStatus.HELD, slots.c.held_until <= r.now),
                ),
            )
            .values(status=SlotStatus.HELD, hold_id=r.hold_id, held_until=r.expires_at)
            .returning(slots.c.provider_id, slots.c.price_minor, slots.c.currency)
        )
    ).one_or_none()
    if granted is None:
        return None
    await conn.execute(
        update(holds)
        .where(holds.c.active_slot_id == r.slot_id, holds.c.expires_at <= r.now)
        .values(released(ReleaseReason.EXPIRED, r.now))
    )
    previous = (
        await conn.execute(
            update(holds)
            .where(holds.c.active_customer_id == r.customer_id, holds.c.slot_id != r.slot_id)
            .values(
                released(
                    case(
                        (holds.c.expires_at <= r.now, ReleaseReason.EXPIRED.value),
                        else_=ReleaseReason.SUPERSEDED.value,
                    ),
                    r.now,
                )
            )
            .returning(holds.c.id, holds.c.slot_id)
        )
    ).one_or_none()
    if previous is not None:
        await free_slot(conn, slot_id=previous.slot_id, hold_id=previous.id)
    hold = Hold(
        id=r.hold_id,
        slot_id=r.slot_id,
        provider_id=granted.provider_id,
        customer_id=r.customer_id,
        status=HoldStatus.ACTIVE,
        release_reason=None,
        created_at=r.now,
        expires_at=r.expires_at,
        amount_minor=granted.price_minor,
        currency=granted.currency,
    )
    await conn.execute(insert(holds).values(**hold_row(hold)))
    return hold


def hold_row(hold: Hold) -> dict[str, object]:
    """The row of a hold, with the unique `active_` keys set only while it is active."""
    active = hold.status is HoldStatus.ACTIVE
    return {
        "id": hold.id,
        "slot_id": hold.slot_id,
        "provider_id": hold.provider_id,
        "customer_id": hold.customer_id,
        "status": hold.status,
        "release_reason": hold.release_reason,
        "created_at": hold.created_at,
        "expires_at": hold.expires_at,
        "amount_minor": hold.amount_minor,
        "currency": hold.currency,
        "active_slot_id": hold.slot_id if active else None,
        "active_customer_id": hold.customer_id if active else None,
    }
