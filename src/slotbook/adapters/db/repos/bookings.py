"""Bookings: written in the confirming transaction, moved by complete and cancel."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Row, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from slotbook.adapters.db.tables import bookings
from slotbook.domain.bookings import Booking
from slotbook.domain.states import BookingStatus

LIST_LIMIT = 500
_ADD = insert(bookings)  # built once; the values come as parameters


def booking_from_row(row: Row[Any]) -> Booking:
    return Booking(
        id=row.id,
        hold_id=row.hold_id,
        slot_id=row.slot_id,
        provider_id=row.provider_id,
        customer_id=row.customer_id,
        payment_id=row.payment_id,
        status=BookingStatus(row.status),
        amount_minor=row.amount_minor,
        currency=row.currency,
        confirmed_at=row.confirmed_at,
        completed_at=row.completed_at,
        cancelled_at=row.cancelled_at,
    )


async def add_booking(conn: AsyncConnection, booking: Booking) -> None:
    await conn.execute(
        _ADD,
        {
            "id": booking.id,
            "hold_id": booking.hold_id,
            "slot_id": booking.slot_id,
            "provider_id": booking.provider_id,
            "customer_id": booking.customer_id,
            "payment_id": booking.payment_id,
            "status": booking.status,
            "amount_minor": booking.amount_minor,
            "currency": booking.currency,
            "confirmed_at": booking.confirmed_at,
        },
    )


async def get_booking(
    conn: AsyncConnection, booking_id: UUID, *, for_update: bool = False
) -> Booking | None:
    stmt = select(bookings).where(bookings.c.id == booking_id)
    if for_update:
        stmt = stmt.with_for_update()
    row = (await conn.execute(stmt)).one_or_none()
    return booking_from_row(row) if row else None


async def list_bookings(
    conn: AsyncConnection, *, customer_id: UUID | None = None, provider_id: UUID | None = None
) -> list[Booking]:
    """Bookings newest first, of one customer, one provider, or all (both None)."""
    stmt = (
        select(bookings).order_by(bookings.c.confirmed_at.desc(), bookings.c.id).limit(LIST_LIMIT)
    )
    if customer_id is not None:
        stmt = stmt.where(bookings.c.customer_id == customer_id)
    if provider_id is not None:
        stmt = stmt.where(bookings.c.provider_id == provider_id)
    return [booking_from_row(r) for r in await conn.execute(stmt)]


async def save_move(conn: AsyncConnection, before: Booking, after: Booking) -> bool:
    """Persist a booking's move, only from the status it was read in."""
    done = await conn.execute(
        update(bookings)
        .where(bookings.c.id == before.id, bookings.c.status == before.status)
        .values(
            status=after.status, completed_at=after.completed_at, cancelled_at=after.cancelled_at
        )
    )
    return done.rowcount == 1
