"""Reading holds back; writing them is the hold store's and the sweeper's job."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from slotbook.adapters.db.tables import bookings, holds
from slotbook.domain.holds import Hold
from slotbook.domain.states import HoldStatus, ReleaseReason

HOLD_COLUMNS = (*holds.c, bookings.c.id.label("booking_id"))
HOLD_FROM = holds.outerjoin(bookings, bookings.c.hold_id == holds.c.id)


def hold_from_row(row: Row[Any]) -> Hold:
    return Hold(
        id=row.id,
        slot_id=row.slot_id,
        provider_id=row.provider_id,
        customer_id=row.customer_id,
        status=HoldStatus(row.status),
        release_reason=ReleaseReason(row.release_reason) if row.release_reason else None,
        created_at=row.created_at,
        expires_at=row.expires_at,
        amount_minor=row.amount_minor,
        currency=row.currency,
        booking_id=row.booking_id,
    )


async def get_hold(conn: AsyncConnection, hold_id: UUID) -> Hold | None:
    row = (
        await conn.execute(
            select(*HOLD_COLUMNS).select_from(HOLD_FROM).where(holds.c.id == hold_id)
        )
    ).one_or_none()
    return hold_from_row(row) if row else None


async def active_hold_on_slot(conn: AsyncConnection, slot_id: UUID) -> Hold | None:
    """The slot's active hold, expired or not (the caller decides what expiry means)."""
    row = (
        await conn.execute(
            select(*HOLD_COLUMNS).select_from(HOLD_FROM).where(holds.c.active_slot_id == slot_id)
        )
    ).one_or_none()
    return hold_from_row(row) if row else None


async def active_hold_of(conn: AsyncConnection, customer_id: UUID) -> Hold | None:
    """The customer's active hold, expired or not."""
    row = (
        await conn.execute(
            select(*HOLD_COLUMNS)
            .select_from(HOLD_FROM)
            .where(holds.c.active_customer_id == customer_id)
        )
    ).one_or_none()
    return hold_from_row(row) if row else None


async def count_live_holds(conn: AsyncConnection, now: datetime) -> int:
    """How many holds are active and not yet expired."""
    count = await conn.scalar(
        select(func.count())
        .select_from(holds)
        .where(holds.c.active_slot_id.is_not(None), holds.c.expires_at > now)
    )
    return int(count or 0)
