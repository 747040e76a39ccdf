"""PostgreSQL's one-statement confirmation (adapters/db/pg_confirm.py) against the
one-by-one writes it replaces: the same successes, with and without the gateway's id
known, with other pending payments on the hold, give the same rows in every table they
touch; a hold that is no longer live is refused by both, writing nothing."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from slotbook.adapters.clock import ManualClock
from slotbook.adapters.db import pg_confirm
from slotbook.adapters.db.payment_tables import payments
from slotbook.adapters.db.tables import holds
from slotbook.domain import ledger as rules
from slotbook.domain.bookings import Booking
from slotbook.domain.errors import IllegalTransition
from slotbook.domain.payments import Payment, SuccessFate
from slotbook.domain.states import BookingStatus, PaymentStatus
from slotbook.service_layer import payment_outcomes as outcomes
from slotbook.service_layer.context import Context
from tests.integration.confirming import both, database_url, paid_hold, rows_of, success

pytestmark = pytest.mark.postgres
__all__ = ["both", "database_url"]  # fixtures


@pytest.mark.parametrize("extra_pending", [0, 1, 2])
@pytest.mark.parametrize("gateway_id_recorded", [True, False])
async def test_one_statement_writes_what_the_writes_one_by_one_write(
    both: tuple[Context, Context],
    clock: ManualClock,
    extra_pending: int,
    gateway_id_recorded: bool,
) -> None:
    fast, slow = both
    seen = []
    for ctx in (fast, slow):
        since = clock.now()
        payment = await paid_hold(
            ctx, clock, extra_pending, gateway_id_recorded=gateway_id_recorded
        )
        fate = await outcomes.payment_succeeded(ctx, success(payment))
        assert fate is SuccessFate.CONFIRM
        seen.append(await rows_of(ctx, payment, since))
    assert seen[0] == seen[1]
    written = seen[0]
    assert written["booking"]["status"] == "confirmed"
    assert [p["status"] for p in written["payments"]] == ["succeeded"] + ["cancelled"] * (
        extra_pending
    )
    assert len(written["ledger_entries"]) == 2
    assert [t["kind"] for t in written["outbox"]] == ["cancel_payment"] * extra_pending
    assert written["payments"][0]["gateway_payment_id"] == "gateway id 0"  # learnt if lost


async def test_a_hold_confirmed_meanwhile_is_refused_by_both_writing_nothing(
    both: tuple[Context, Context], clock: ManualClock
) -> None:
    """The confirming writes check the state they write over: a payment no longer as it
    was read refuses the whole statement, and its other writes are rolled back with it."""
    fast, _ = both
    payment = await paid_hold(fast, clock, 0)
    before = await rows_of(fast, payment, clock.now())
    async with fast.db.write() as conn:
        hold = (await conn.execute(select(holds).where(holds.c.id == payment.hold_id))).one()
    with pytest.raises(IllegalTransition):
        await _confirm_after_the_payment_moved(fast, payment, hold, clock.now())
    assert await rows_of(fast, payment, clock.now()) == before


async def _confirm_after_the_payment_moved(
    ctx: Context, payment: Payment, hold: Any, now: datetime
) -> None:
    async with ctx.db.write() as conn:
        await conn.execute(  # declined under the confirming locks' nose
            payments.update().where(payments.c.id == payment.id).values(status="failed")
        )
        await _confirm_directly(conn, payment, hold, now)


async def _confirm_directly(conn: Any, payment: Payment, hold: Any, now: datetime) -> None:
    booking = Booking(
        id=uuid.uuid4(),
        hold_id=hold.id,
        slot_id=hold.slot_id,
        provider_id=hold.provider_id,
        customer_id=hold.customer_id,
        payment_id=payment.id,
        status=BookingStatus.CONFIRMED,
        amount_minor=payment.amount_minor,
        currency=payment.currency,
        confirmed_at=now,
    )
    escrow = rules.capture_to_escrow(
        payment_id=payment.id,
        booking_id=booking.id,
        amount_minor=payment.amount_minor,
        currency=payment.currency,
    )
    await pg_confirm.confirm_payment(
        conn,
        pg_confirm.Confirming(
            payment=replace(payment, status=PaymentStatus.PENDING),
            booking=booking,
            escrow=escrow,
            escrow_id=uuid.uuid4(),
            entry_ids=(uuid.uuid4(), uuid.uuid4()),
            gateway_payment_id=payment.gateway_payment_id,
            now=now,
        ),
    )
