"""The schema refuses what the invariants forbid, even when code is bypassed entirely."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from slotbook.adapters.db.tables import bookings, holds, slots
from slotbook.domain.slots import Slot
from slotbook.service_layer.context import Context
from tests import builders
from tests.conftest import START

DAY = START + timedelta(days=1)


def hold_row(slot: Slot, customer_id: uuid.UUID, *, active: bool = True) -> dict[str, object]:
    return {
        "id": uuid.uuid4(),
        "slot_id": slot.id,
        "provider_id": slot.provider_id,
        "customer_id": customer_id,
        "status": "active" if active else "released",
        "release_reason": None if active else "cancelled",
        "created_at": START,
        "expires_at": START + timedelta(minutes=10),
        "amount_minor": slot.price_minor,
        "currency": slot.currency,
        "active_slot_id": slot.id if active else None,
        "active_customer_id": customer_id if active else None,
    }


async def insert_rows(ctx: Context, table: object, *rows: dict[str, object]) -> None:
    async with ctx.db.write() as conn:
        for row in rows:
            await conn.execute(insert(table).values(row))  # type: ignore[arg-type]


async def test_a_second_active_hold_on_a_slot_is_refused(ctx: Context) -> None:
    _, (slot, *_) = await builders.provider_with_slots(ctx, first=DAY)
    alice, bob = await builders.customer(ctx), await builders.customer(ctx)
    await insert_rows(ctx, holds, hold_row(slot, alice.id))
    with pytest.raises(IntegrityError):
        await insert_rows(ctx, holds, hold_row(slot, bob.id))
    # released holds on the same slot are history, not locks
    await insert_rows(ctx, holds, hold_row(slot, bob.id, active=False))


async def test_a_second_active_hold_of_one_customer_is_refused(ctx: Context) -> None:
    _, (one, two, *_) = await builders.provider_with_slots(ctx, first=DAY)
    alice = await builders.customer(ctx)
    await insert_rows(ctx, holds, hold_row(one, alice.id))
    with pytest.raises(IntegrityError):
        await insert_rows(ctx, holds, hold_row(two, alice.id))


async def test_an_active_hold_must_carry_its_lock_keys(ctx: Context) -> None:
    _, (slot, *_) = await builders.provider_with_slots(ctx, first=DAY)
    alice = await builders.customer(ctx)
    sneaky = {**hold_row(slot, alice.id), "active_slot_id": None, "active_customer_id": None}
    with pytest.raises(IntegrityError):
        await insert_rows(ctx, holds, sneaky)


async def test_an_overlapping_slot_is_refused(ctx: Context) -> None:
    provider_id, (slot, *_) = await builders.provider_with_slots(ctx, first=DAY, count=1)
    row = {
        "provider_id": provider_id,
        "service_id": slot.service_id,
        "category": slot.category,
        "price_minor": slot.price_minor,
        "currency": slot.currency,
        "status": "available",
        "created_at": START,
    }
    overlapping = {
        **row,
        "id": uuid.uuid4(),
        "starts_at": slot.starts_at + timedelta(minutes=30),
        "ends_at": slot.ends_at + timedelta(minutes=30),
    }
    with pytest.raises(IntegrityError):
        await insert_rows(ctx, slots, overlapping)
    adjacent = {
        **row,
        "id": uuid.uuid4(),
        "starts_at": slot.ends_at,
        "ends_at": slot.ends_at + timedelta(hours=1),
    }
    await insert_rows(ctx, slots, adjacent)


async def test_a_second_live_booking_of_a_slot_is_refused(ctx: Context) -> None:
    _, (slot, *_) = await builders.provider_with_slots(ctx, first=DAY)
    alice, bob = await builders.customer(ctx), await builders.customer(ctx)
    first, second = hold_row(slot, alice.id, active=False), hold_row(slot, bob.id, active=False)
    await insert_rows(ctx, holds, first, second)

    def booking(hold: dict[str, object], status: str) -> dict[str, object]:
        return {
            "id": uuid.uuid4(),
            "hold_id": hold["id"],
            "slot_id": slot.id,
            "provider_id": slot.provider_id,
            "customer_id": hold["customer_id"],
            "status": status,
            "amount_minor": slot.price_minor,
            "currency": slot.currency,
            "confirmed_at": START,
        }

    await insert_rows(ctx, bookings, booking(first, "confirmed"))
    with pytest.raises(IntegrityError):
        await insert_rows(ctx, bookings, booking(second, "confirmed"))
    with pytest.raises(IntegrityError):
        await insert_rows(ctx, bookings, booking(second, "completed"))
    await insert_rows(ctx, bookings, booking(second, "cancelled"))
