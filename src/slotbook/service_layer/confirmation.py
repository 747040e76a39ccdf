"""The confirming writes of a successful payment, inside its outcome's transaction.

Invariant 4: the hold confirmed, the slot booked, the booking and its escrow written, and
the hold's other pending payments withdrawn, all in the caller's transaction or none of
them; the caller (payment_outcomes.py) has already locked slot, hold and payment in the
lock order and decided the success's fate. On PostgreSQL the same writes can go as one
statement (adapters/db/pg_confirm.py).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from slotbook.adapters.db import pg_confirm
from slotbook.adapters.db.engine import Connection
from slotbook.adapters.db.repos import bookings as booking_repo
from slotbook.adapters.db.repos import ledger, outbox, settlement
from slotbook.adapters.db.repos import payments as payment_repo
from slotbook.adapters.db.repos.outbox import TaskKind
from slotbook.domain import ledger as rules
from slotbook.domain.bookings import Booking
from slotbook.domain.holds import Hold
from slotbook.domain.payments import Payment
from slotbook.domain.slots import Slot
from slotbook.domain.states import BookingStatus, HoldStatus, PaymentStatus
from slotbook.service_layer.context import Context


async def confirm(conn: Connection, confirmed: Hold, paid: Payment, now: datetime) -> None:
    """Invariant 4, all in this transaction: hold confirmed, slot booked, booking and its
    escrow written; the hold's other pending payments are withdrawn."""
    await settlement.confirm_hold(conn, confirmed)
    await _write_booking(conn, confirmed, paid, now)
    await _withdraw_other_payments(conn, confirmed, paid, now)


def in_one_statement(ctx: Context, conn: Connection) -> bool:
    """Whether a confirmation goes as one statement (a setting; PostgreSQL only)."""
    return ctx.settings.confirm_in_one_statement and conn.dialect.name == "postgresql"


async def confirm_in_one_statement(
    conn: Connection,
    hold: Hold,
    payment: Payment,
    *,
    gateway_payment_id: str | None,
    now: datetime,
) -> Payment:
    """The payment marked succeeded and everything `confirm` writes, as one statement on
    PostgreSQL (pg_confirm.py); the payment as it now is."""
    return await pg_confirm.confirm_payment(
        conn, confirming(hold, payment, gateway_payment_id=gateway_payment_id, now=now)
    )


def confirming(
    hold: Hold, payment: Payment, *, gateway_payment_id: str | None, now: datetime
) -> pg_confirm.Confirming:
    """What confirming `hold` with `payment` writes in one statement, new ids drawn."""
    booking = _booking_of(hold.confirm(now, uuid.uuid4()), payment, now)
    escrow = _escrow_of(booking)
    return pg_confirm.Confirming(
        payment=payment,
        booking=booking,
        escrow=escrow,
        escrow_id=uuid.uuid4(),
        entry_ids=tuple(uuid.uuid4() for _ in escrow.entries),
        gateway_payment_id=gateway_payment_id,
        now=now,
    )


async def book_free_slot(
    ctx: Context, conn: Connection, slot: Slot, paid: Payment, now: datetime
) -> None:
    """A late success under `confirm_if_free`: the slot, still free, is booked for it."""
    booking_id = uuid.uuid4()
    hold = Hold(
        id=uuid.uuid4(),
        slot_id=slot.id,
        provider_id=slot.provider_id,
        customer_id=paid.customer_id,
        status=HoldStatus.CONFIRMED,
        release_reason=None,
        created_at=now,
        expires_at=now + timedelta(seconds=ctx.settings.hold_ttl_seconds),
        amount_minor=paid.amount_minor,
        currency=paid.currency,
        booking_id=booking_id,
    )
    await settlement.book_free_slot(conn, slot_id=slot.id, booked_by=hold, now=now)
    await _write_booking(conn, hold, paid, now)


async def _write_booking(conn: Connection, hold: Hold, paid: Payment, now: datetime) -> None:
    booking = _booking_of(hold, paid, now)
    await booking_repo.add_booking(conn, booking)
    await ledger.post(conn, _escrow_of(booking), now=now)


def _booking_of(hold: Hold, paid: Payment, now: datetime) -> Booking:
    assert hold.booking_id is not None
    return Booking(
        id=hold.booking_id,
        hold_id=hold.id,
        slot_id=hold.slot_id,
        provider_id=hold.provider_id,
        customer_id=hold.customer_id,
        payment_id=paid.id,
        status=BookingStatus.CONFIRMED,
        amount_minor=paid.amount_minor,
        currency=paid.currency,
        confirmed_at=now,
    )


def _escrow_of(booking: Booking) -> rules.Transaction:
    assert booking.payment_id is not None
    return rules.capture_to_escrow(
        payment_id=booking.payment_id,
        booking_id=booking.id,
        amount_minor=booking.amount_minor,
        currency=booking.currency,
    )


async def _withdraw_other_payments(
    conn: Connection, hold: Hold, paid: Payment, now: datetime
) -> None:
    for other in await payment_repo.payments_of_holds(conn, [hold.id]):
        if other.id != paid.id and other.status is PaymentStatus.PENDING:
            await payment_repo.move_payment(conn, other, PaymentStatus.CANCELLED, now=now)
            await outbox.add(conn, TaskKind.CANCEL_PAYMENT, other.id, due_at=now, now=now)
