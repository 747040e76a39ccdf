"""Queries on the sandbox's payments, refunds, idempotency keys and switches.

Every change is a conditional write, checked by the number of rows it touched, so the
processes sharing the file never settle, cancel or refund one payment twice.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime

from sqlalchemy import literal_column, select, update
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from slotbook.domain.gateway import GatewayPaymentStatus
from slotbook.sandbox.errors import AlreadySettled, IdempotencyKeyReused, UnknownPayment
from slotbook.sandbox.model import Outcome, PaymentRecord, RefundRecord
from slotbook.sandbox.tables import idempotency_keys, payments, refunds, switches

PENDING, CANCELLED = GatewayPaymentStatus.PENDING, GatewayPaymentStatus.CANCELLED


async def claim_key(
    conn: AsyncConnection, *, key: str, fingerprint: str, resource_id: str, now: datetime
) -> str | None:
    """Record `key` as naming `resource_id`; if it was recorded before, the id it named
    then (IdempotencyKeyReused when it came with another request)."""
    claimed = await conn.execute(
        insert(idempotency_keys)
        .values(key=key, fingerprint=fingerprint, resource_id=resource_id, created_at=now)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    if claimed.rowcount == 1:
        return None
    earlier = (
        await conn.execute(select(idempotency_keys).where(idempotency_keys.c.key == key))
    ).one()
    if earlier.fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            f"Idempotency-Key {key!r} was used for another request",
            loc=("header", "idempotency-key"),
        )
    return str(earlier.resource_id)


async def insert_payment(conn: AsyncConnection, payment: PaymentRecord) -> None:
    await conn.execute(payments.insert().values(_columns(payment)))


async def load_payment(conn: AsyncConnection, payment_id: str) -> PaymentRecord:
    row = (await conn.execute(select(payments).where(payments.c.id == payment_id))).one_or_none()
    if row is None:
        raise UnknownPayment(f"no payment {payment_id}")
    return PaymentRecord.from_row(row)


async def cancel_pending(conn: AsyncConnection, payment_id: str, now: datetime) -> PaymentRecord:
    """Cancel the payment if it is still pending; the payment as it stands after."""
    await conn.execute(
        update(payments)
        .where(payments.c.id == payment_id, payments.c.status == PENDING)
        .values(status=CANCELLED, cancelled_at=now)
    )
    return await load_payment(conn, payment_id)


async def settle(
    conn: AsyncConnection, payment_id: str, outcome: Outcome, now: datetime
) -> PaymentRecord:
    """Settle a payment not settled yet (pending or cancelled); AlreadySettled if it was."""
    done = await conn.execute(
        update(payments)
        .where(payments.c.id == payment_id, payments.c.settled_at.is_(None))
        .values(status=outcome.status, settled_at=now)
    )
    payment = await load_payment(conn, payment_id)
    if done.rowcount != 1:
        raise AlreadySettled(f"payment {payment_id} is already {payment.status.value}")
    return payment


async def take_refund(conn: AsyncConnection, payment_id: str, amount_minor: int) -> bool:
    """Count `amount_minor` as refunded if the succeeded payment has that much left."""
    done = await conn.execute(
        update(payments)
        .where(
            payments.c.id == payment_id,
            payments.c.status == GatewayPaymentStatus.SUCCEEDED,
            payments.c.refunded_minor + amount_minor <= payments.c.amount_minor,
        )
        .values(refunded_minor=payments.c.refunded_minor + amount_minor)
    )
    return done.rowcount == 1


async def insert_refund(conn: AsyncConnection, refund: RefundRecord) -> None:
    await conn.execute(refunds.insert().values(_columns(refund)))


async def load_refund(conn: AsyncConnection, refund_id: str) -> RefundRecord:
    row = (await conn.execute(select(refunds).where(refunds.c.id == refund_id))).one()
    return RefundRecord.from_row(row)


async def refunds_of(conn: AsyncConnection, payment_id: str) -> list[RefundRecord]:
    rows = await conn.execute(
        select(refunds)
        .where(refunds.c.payment_id == payment_id)
        .order_by(refunds.c.created_at, literal_column("rowid"))
    )
    return [RefundRecord.from_row(row) for row in rows]


def _columns(record: PaymentRecord | RefundRecord) -> dict[str, object]:
    return {field.name: getattr(record, field.name) for field in fields(record)}


async def read_switch(conn: AsyncConnection, name: str, default: str) -> str:
    value = await conn.scalar(select(switches.c.value).where(switches.c.name == name))
    return default if value is None else str(value)


async def write_switch(conn: AsyncConnection, name: str, value: str) -> None:
    statement = insert(switches).values(name=name, value=value)
    await conn.execute(
        statement.on_conflict_do_update(index_elements=["name"], set_={"value": value})
    )
