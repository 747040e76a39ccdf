"""The hold store, portable form: the lock is a few statements in one write transaction.

Used on SQLite, where a write transaction already has the database to itself (BEGIN
IMMEDIATE). The PostgreSQL form (`pg_hold_lock`) does the same in one statement. Both lock
in the order of `locking.py` (each slot before its hold) and end a hold at the slot's
start if that comes before its TTL runs out.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import ColumnElement, and_, case, insert, literal, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from slotbook.adapters.db.engine import Database
from slotbook.adapters.db.locking import lock_slot
from slotbook.adapters.db.repos import catalog, outbox, suggestions, users
from slotbook.adapters.db.repos import holds as hold_repo
from slotbook.adapters.db.repos.hold_writes import release_hold, released
from slotbook.adapters.db.tables import holds, slots
from slotbook.adapters.db.types import UTCDateTime
from slotbook.domain.errors import AccountGone
from slotbook.domain.holds import Hold, release_reason_for_previous
from slotbook.domain.ports import Inspection, LockRequest, LockResult
from slotbook.domain.slots import Slot
from slotbook.domain.states import HoldStatus, ReleaseReason, SlotStatus
from slotbook.domain.suggestions import Suggestion

# SQLite names no constraint when a foreign key fails; the slot's cannot (its row was just
# updated in the same transaction), so it is the customer's
_FOREIGN_KEY_FAILED = "FOREIGN KEY constraint failed"


class SqlHoldStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def try_lock(self, request: LockRequest) -> LockResult:
        try:
            async with self._db.write() as conn:
                hold = await lock_in(conn, request)
                if hold is not None:
                    return LockResult(hold)
                seen = await inspect_in(conn, request.slot_id, request.customer_id)
                return LockResult(None, seen=seen)
        except IntegrityError as exc:
            if _FOREIGN_KEY_FAILED not in str(exc.orig):
                raise
            raise AccountGone("the account no longer exists") from None

    async def inspect(self, slot_id: UUID, customer_id: UUID) -> Inspection:
        async with self._db.read() as conn:
            return await inspect_in(conn, slot_id, customer_id)

    async def alternatives(self, target: Slot, *, now: datetime, limit: int) -> list[Suggestion]:
        async with self._db.read() as conn:
            return await suggestions.candidates(conn, target, now=now, limit=limit)


async def inspect_in(conn: AsyncConnection, slot_id: UUID, customer_id: UUID) -> Inspection:
    """The slot, its active hold and whether the customer exists, in an open transaction."""
    slot = await catalog.get_slot(conn, slot_id)
    holder = await hold_repo.active_hold_on_slot(conn, slot_id) if slot else None
    known = await users.user_by_id(conn, customer_id) is not None
    return Inspection(slot, holder, customer_known=known)


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
            .values(status=SlotStatus.HELD, hold_id=r.hold_id, held_until=_until_start(r))
            .returning(
                slots.c.provider_id, slots.c.price_minor, slots.c.currency, slots.c.held_until
            )
        )
    ).one_or_none()
    if granted is None:
        return None
    taken_over = await conn.scalars(
        update(holds)
        .where(holds.c.active_slot_id == r.slot_id, holds.c.expires_at <= r.now)
        .values(released(ReleaseReason.EXPIRED, r.now))
        .returning(holds.c.id)
    )
    await outbox.oblige_withdrawal(conn, taken_over.all(), now=r.now)
    previous = await hold_repo.active_hold_of(conn, r.customer_id)
    if previous is not None:
        await supersede(conn, previous, now=r.now)
    hold = Hold(
        id=r.hold_id,
        slot_id=r.slot_id,
        provider_id=granted.provider_id,
        customer_id=r.customer_id,
        status=HoldStatus.ACTIVE,
        release_reason=None,
        created_at=r.now,
        expires_at=granted.held_until,
        amount_minor=granted.price_minor,
        currency=granted.currency,
    )
    await conn.execute(insert(holds).values(**hold_row(hold)))
    return hold


async def supersede(conn: AsyncConnection, previous: Hold, *, now: datetime) -> None:
    """Release the customer's previous hold for a new one (expired if it had run out) and
    free its slot; that slot is locked first (the lock order)."""
    await lock_slot(conn, previous.slot_id)
    reason = release_reason_for_previous(previous, now)
    await release_hold(conn, previous.release(reason), now=now)


def _until_start(r: LockRequest) -> ColumnElement[datetime]:
    """The hold's end: its TTL's expiry, or the slot's start if that comes first."""
    expiry = literal(r.expires_at, UTCDateTime)
    return case((slots.c.starts_at < expiry, slots.c.starts_at), else_=expiry)


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
