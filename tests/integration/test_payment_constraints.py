"""The database keeps the state machines and the ledger by itself: direct writes that
bypass the code are refused (SQLite and PostgreSQL)."""

from __future__ import annotations

import itertools
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Table, delete, insert, update
from sqlalchemy.exc import DBAPIError

from slotbook.adapters.db.payment_tables import ledger_entries, ledger_transactions, payments
from slotbook.adapters.db.tables import bookings, holds
from slotbook.domain.states import (
    BOOKING_MOVES,
    HOLD_MOVES,
    PAYMENT_MOVES,
    BookingStatus,
    HoldStatus,
    PaymentStatus,
)
from slotbook.service_layer.context import Context
from tests import builders
from tests.conftest import START

DAY = START + timedelta(days=1)


async def write(ctx: Context, statement: Any) -> None:
    async with ctx.db.write() as conn:
        await conn.execute(statement)


async def refused(ctx: Context, statement: Any) -> bool:
    try:
        await write(ctx, statement)
    except DBAPIError:
        return True
    return False


def hold_in(status: HoldStatus, slot: Any, customer: uuid.UUID) -> dict[str, Any]:
    active = status is HoldStatus.ACTIVE
    return {
        "id": uuid.uuid4(),
        "slot_id": slot.id,
        "provider_id": slot.provider_id,
        "customer_id": customer,
        "status": status,
        "release_reason": "cancelled" if status is HoldStatus.RELEASED else None,
        "created_at": START,
        "expires_at": START + timedelta(minutes=10),
        "amount_minor": slot.price_minor,
        "currency": slot.currency,
        "active_slot_id": slot.id if active else None,
        "active_customer_id": customer if active else None,
    }


@pytest.fixture
async def world(ctx: Context) -> dict[str, Any]:
    _, slots = await builders.provider_with_slots(ctx, first=DAY, count=1)
    customer = await builders.customer(ctx)
    hold = hold_in(HoldStatus.RELEASED, slots[0], customer.id)
    async with ctx.db.write() as conn:
        await conn.execute(insert(holds).values(hold))
    return {"slot": slots[0], "customer": customer.id, "hold": hold}


def hold_move(new: HoldStatus, world: dict[str, Any]) -> dict[str, Any]:
    active = new is HoldStatus.ACTIVE
    return {
        "status": new,
        "release_reason": "cancelled" if new is HoldStatus.RELEASED else None,
        "active_slot_id": world["slot"].id if active else None,
        "active_customer_id": world["customer"] if active else None,
    }


@pytest.mark.parametrize(("old", "new"), list(itertools.product(HoldStatus, HoldStatus)))
async def test_hold_status_moves_follow_the_state_machine(
    ctx: Context, world: dict[str, Any], old: HoldStatus, new: HoldStatus
) -> None:
    row = hold_in(old, world["slot"], world["customer"])
    await write(ctx, insert(holds).values(row))
    allowed = old == new or new in HOLD_MOVES.get(old, frozenset())
    move = update(holds).where(holds.c.id == row["id"]).values(hold_move(new, world))
    assert await refused(ctx, move) is not allowed


def payment_in(status: PaymentStatus, world: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "hold_id": world["hold"]["id"],
        "customer_id": world["customer"],
        "provider_id": world["slot"].provider_id,
        "gateway": "sandbox",
        "method": "card",
        "status": status,
        "amount_minor": 45_000,
        "currency": "THB",
        "created_at": START,
    }


@pytest.mark.parametrize(("old", "new"), list(itertools.product(PaymentStatus, PaymentStatus)))
async def test_payment_status_moves_follow_the_state_machine(
    ctx: Context, world: dict[str, Any], old: PaymentStatus, new: PaymentStatus
) -> None:
    row = payment_in(old, world)
    await write(ctx, insert(payments).values(row))
    allowed = old == new or new in PAYMENT_MOVES.get(old, frozenset())
    move = update(payments).where(payments.c.id == row["id"]).values(status=new)
    assert await refused(ctx, move) is not allowed


@pytest.mark.parametrize(("old", "new"), list(itertools.product(BookingStatus, BookingStatus)))
async def test_booking_status_moves_follow_the_state_machine(
    ctx: Context, world: dict[str, Any], old: BookingStatus, new: BookingStatus
) -> None:
    slot = world["slot"]
    row = {
        "id": uuid.uuid4(),
        "hold_id": world["hold"]["id"],
        "slot_id": slot.id,
        "provider_id": slot.provider_id,
        "customer_id": world["customer"],
        "status": old,
        "amount_minor": 45_000,
        "currency": "THB",
        "confirmed_at": START,
    }
    await write(ctx, insert(bookings).values(row))
    allowed = old == new or new in BOOKING_MOVES.get(old, frozenset())
    move = update(bookings).where(bookings.c.id == row["id"]).values(status=new)
    assert await refused(ctx, move) is not allowed


def entries(txn: uuid.UUID, *amounts: int) -> list[dict[str, Any]]:
    accounts = ("gateway_receipts", "escrow", "refunds_pending")
    return [
        {
            "id": uuid.uuid4(),
            "transaction_id": txn,
            "account": accounts[i % 3],
            "amount_minor": amount,
            "currency": "THB",
        }
        for i, amount in enumerate(amounts)
    ]


async def post(ctx: Context, txn: uuid.UUID, rows: list[dict[str, Any]]) -> None:
    async with ctx.db.write() as conn:
        await conn.execute(insert(ledger_entries), rows)
        header = {"id": txn, "kind": "capture_to_escrow", "created_at": START}
        await conn.execute(insert(ledger_transactions).values(header))


async def test_a_balanced_ledger_transaction_is_written(ctx: Context) -> None:
    txn = uuid.uuid4()
    await post(ctx, txn, entries(txn, 45_000, -40_000, -5_000))


@pytest.mark.parametrize("amounts", [(45_000, -44_999), (45_000,), (1, 1, -1)])
async def test_an_unbalanced_ledger_transaction_is_refused(
    ctx: Context, amounts: tuple[int, ...]
) -> None:
    txn = uuid.uuid4()
    with pytest.raises(DBAPIError, match="ledger_unbalanced"):
        await post(ctx, txn, entries(txn, *amounts))


async def test_a_ledger_transaction_sums_to_zero_in_each_currency(ctx: Context) -> None:
    """THB 100 against USD 100 sums to zero only if currencies are added together."""
    mixed = uuid.uuid4()
    rows = entries(mixed, 100, -100)
    rows[1]["currency"] = "USD"
    with pytest.raises(DBAPIError, match="ledger_unbalanced"):
        await post(ctx, mixed, rows)
    both = uuid.uuid4()  # each currency balanced on its own: written
    rows = entries(both, 100, -100) + entries(both, 7, -7)
    rows[2]["currency"] = rows[3]["currency"] = "USD"
    await post(ctx, both, rows)


async def test_a_ledger_transaction_cannot_be_reopened(ctx: Context) -> None:
    txn = uuid.uuid4()
    await post(ctx, txn, entries(txn, 100, -100))
    with pytest.raises(DBAPIError, match="ledger_"):
        async with ctx.db.write() as conn:
            await conn.execute(insert(ledger_entries), entries(txn, 50))


@pytest.mark.parametrize(
    ("table", "change"),
    [(ledger_entries, {"currency": "USD"}), (ledger_transactions, {"kind": "refund_paid"})],
    ids=["entries", "transactions"],
)
async def test_ledger_rows_are_never_changed_or_deleted(
    ctx: Context, table: Table, change: dict[str, str]
) -> None:
    txn = uuid.uuid4()
    await post(ctx, txn, entries(txn, 100, -100))
    key = table.c.transaction_id if table is ledger_entries else table.c.id
    assert await refused(ctx, update(table).where(key == txn).values(change))
    assert await refused(ctx, delete(table).where(key == txn))
