"""Saved bookings: a customer's queue of slots to pay for later."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Row, delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from slotbook.adapters.db.availability_tables import saved_bookings
from slotbook.adapters.db.repos.catalog import slot_from_row
from slotbook.adapters.db.tables import slots
from slotbook.domain.saved_bookings import SavedBooking
from slotbook.domain.slots import Slot


def _saved(row: Row[Any]) -> SavedBooking:
    return SavedBooking(
        id=row.id,
        customer_id=row.customer_id,
        slot_id=row.slot_id,
        note=row.note,
        created_at=row.created_at,
    )


async def add(conn: AsyncConnection, saved: SavedBooking) -> bool:
    """Insert it; False when the customer had already saved that slot (nothing written)."""
    try:
        async with conn.begin_nested():
            await conn.execute(
                insert(saved_bookings).values(
                    id=saved.id,
                    customer_id=saved.customer_id,
                    slot_id=saved.slot_id,
                    note=saved.note,
                    created_at=saved.created_at,
                )
            )
    except IntegrityError:
        if await find(conn, customer_id=saved.customer_id, slot_id=saved.slot_id) is None:
            raise  # not the one-per-slot index: the slot or the customer is gone
        return False
    return True


async def get(conn: AsyncConnection, saved_id: UUID) -> SavedBooking | None:
    stmt = select(saved_bookings).where(saved_bookings.c.id == saved_id)
    row = (await conn.execute(stmt)).one_or_none()
    return _saved(row) if row else None


async def find(conn: AsyncConnection, *, customer_id: UUID, slot_id: UUID) -> SavedBooking | None:
    stmt = select(saved_bookings).where(
        saved_bookings.c.customer_id == customer_id, saved_bookings.c.slot_id == slot_id
    )
    row = (await conn.execute(stmt)).one_or_none()
    return _saved(row) if row else None


async def count(conn: AsyncConnection, customer_id: UUID) -> int:
    stmt = select(func.count()).where(saved_bookings.c.customer_id == customer_id)
    return int((await conn.execute(stmt)).scalar_one())


async def list_with_slots(
    conn: AsyncConnection, customer_id: UUID
) -> list[tuple[SavedBooking, Slot]]:
    """The customer's saved bookings with their slots, soonest slot first."""
    saved_cols = [c.label(f"saved_{c.name}") for c in saved_bookings.c]
    stmt = (
        select(slots, *saved_cols)
        .join(saved_bookings, saved_bookings.c.slot_id == slots.c.id)
        .where(saved_bookings.c.customer_id == customer_id)
        .order_by(slots.c.starts_at, saved_bookings.c.id)
    )
    found: list[tuple[SavedBooking, Slot]] = []
    for row in await conn.execute(stmt):
        saved = SavedBooking(
            id=row.saved_id,
            customer_id=row.saved_customer_id,
            slot_id=row.saved_slot_id,
            note=row.saved_note,
            created_at=row.saved_created_at,
        )
        found.append((saved, slot_from_row(row)))
    return found


async def remove(conn: AsyncConnection, *, saved_id: UUID, customer_id: UUID) -> bool:
    """Delete the customer's own saved booking; False when there was none."""
    result = await conn.execute(
        delete(saved_bookings).where(
            saved_bookings.c.id == saved_id, saved_bookings.c.customer_id == customer_id
        )
    )
    return result.rowcount > 0
