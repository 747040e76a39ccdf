"""Payments and their refunds: rows to domain objects and back.

Writers lock a payment only after its slot and hold (adapters/db/locking.py); every
status write is conditional on the status read under that lock, and the database's
trigger refuses any move the state machine does not allow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Row, String, bindparam, cast, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from slotbook.adapters.db.payment_tables import payments, refunds
from slotbook.adapters.payment_watch import CHANNEL as WATCH_CHANNEL
from slotbook.domain.gateway import PaymentMethod
from slotbook.domain.payments import Payment, Refund
from slotbook.domain.states import PaymentStatus


def payment_from_row(row: Row[Any]) -> Payment:
    return payment_from_values(dict(row._mapping))


def payment_from_values(row: Mapping[str, Any]) -> Payment:
    """A payment from its columns by name."""
    return Payment(
        id=row["id"],
        hold_id=row["hold_id"],
        customer_id=row["customer_id"],
        provider_id=row["provider_id"],
        gateway=row["gateway"],
        method=PaymentMethod(row["method"]),
        status=PaymentStatus(row["status"]),
        amount_minor=row["amount_minor"],
        currency=row["currency"],
        created_at=row["created_at"],
        gateway_payment_id=row["gateway_payment_id"],
        redirect_url=row["redirect_url"],
        return_url=row["return_url"],
        returned_at=row["returned_at"],
    )


async def add_payment(conn: AsyncConnection, payment: Payment) -> None:
    await conn.execute(
        insert(payments).values(
            id=payment.id,
            hold_id=payment.hold_id,
            customer_id=payment.customer_id,
            provider_id=payment.provider_id,
            gateway=payment.gateway,
            method=payment.method,
            status=payment.status,
            amount_minor=payment.amount_minor,
            currency=payment.currency,
            return_url=payment.return_url,
            created_at=payment.created_at,
        )
    )


async def get_payment(
    conn: AsyncConnection, payment_id: UUID, *, for_update: bool = False
) -> Payment | None:
    """The payment; with `for_update`, locked (its slot and hold must be locked first)."""
    stmt = select(payments).where(payments.c.id == payment_id)
    if for_update:
        stmt = stmt.with_for_update()
    row = (await conn.execute(stmt)).one_or_none()
    return payment_from_row(row) if row else None


async def payment_by_gateway_id(
    conn: AsyncConnection, gateway: str, gateway_payment_id: str
) -> Payment | None:
    row = (
        await conn.execute(
            select(payments).where(
                payments.c.gateway == gateway,
                payments.c.gateway_payment_id == gateway_payment_id,
            )
        )
    ).one_or_none()
    return payment_from_row(row) if row else None


# the hot statements of a webhook, built once (construction costs more than execution)
BY_GATEWAY_ID = select(payments.c.id).where(
    payments.c.gateway == bindparam("gateway"),
    payments.c.gateway_payment_id == bindparam("gateway_payment_id"),
)
_BY_REFERENCE = select(payments.c.gateway, payments.c.gateway_payment_id).where(
    payments.c.id == bindparam("payment_id")
)
_OF_HOLDS = (
    select(payments)
    .where(payments.c.hold_id.in_(bindparam("hold_ids", expanding=True)))
    .order_by(payments.c.created_at, payments.c.id)
)
_MOVE = (
    update(payments)
    .where(payments.c.id == bindparam("b_id"), payments.c.status == bindparam("b_old"))
    .values(
        status=bindparam("b_new", type_=payments.c.status.type),
        settled_at=bindparam("b_now", type_=payments.c.settled_at.type),
    )
)
_MOVE_AND_TELL = _MOVE.returning(func.pg_notify(WATCH_CHANNEL, cast(payments.c.id, String)))


async def reported_payment_id(
    conn: AsyncConnection, gateway: str, gateway_payment_id: str | None, reference: UUID | None
) -> UUID | None:
    """Our payment a gateway's event is about: by the gateway's id; else by the reference
    we gave it (an event may beat our own record of the gateway's id), unless that
    payment is another gateway's or already has another gateway id. None: not ours."""
    if gateway_payment_id:
        found = await conn.scalar(
            BY_GATEWAY_ID, {"gateway": gateway, "gateway_payment_id": gateway_payment_id}
        )
        if found is not None:
            return UUID(str(found))
    if reference is None:
        return None
    row = (await conn.execute(_BY_REFERENCE, {"payment_id": reference})).one_or_none()
    if row is None or row.gateway != gateway:
        return None
    if row.gateway_payment_id is not None and gateway_payment_id not in (
        None,
        row.gateway_payment_id,
    ):
        return None
    return reference


async def payments_of_holds(conn: AsyncConnection, hold_ids: Sequence[UUID]) -> list[Payment]:
    """The payments of these holds, oldest first."""
    if not hold_ids:
        return []
    rows = await conn.execute(_OF_HOLDS, {"hold_ids": list(hold_ids)})
    return [payment_from_row(r) for r in rows]


async def set_gateway_details(
    conn: AsyncConnection, payment_id: UUID, *, gateway_payment_id: str, redirect_url: str | None
) -> None:
    await conn.execute(
        update(payments)
        .where(payments.c.id == payment_id)
        .values(gateway_payment_id=gateway_payment_id, redirect_url=redirect_url)
    )


async def move_payment(
    conn: AsyncConnection, payment: Payment, new: PaymentStatus, *, now: datetime
) -> Payment | None:
    """Move the payment from the status it was read in; None if it moved meanwhile. On
    PostgreSQL the same statement tells every listening process (`pg_notify`, delivered
    at commit)."""
    moved = payment.moved(new)
    params = {"b_id": payment.id, "b_old": payment.status, "b_new": new, "b_now": now}
    if conn.dialect.name == "postgresql":
        done = len((await conn.execute(_MOVE_AND_TELL, params)).all())
    else:
        done = (await conn.execute(_MOVE, params)).rowcount
    return moved if done == 1 else None


async def mark_returned(conn: AsyncConnection, payment_id: UUID, *, now: datetime) -> bool:
    """Record the customer's return from the gateway, once; False if already recorded."""
    done = await conn.execute(
        update(payments)
        .where(payments.c.id == payment_id, payments.c.returned_at.is_(None))
        .values(returned_at=now)
    )
    return done.rowcount == 1


async def stale_pending(
    conn: AsyncConnection, *, created_before: datetime, limit: int
) -> list[UUID]:
    """Pending payments older than the cut-off, oldest first (to reconcile)."""
    return list(
        (
            await conn.scalars(
                select(payments.c.id)
                .where(
                    payments.c.status == PaymentStatus.PENDING,
                    payments.c.created_at < created_before,
                )
                .order_by(payments.c.created_at)
                .limit(limit)
            )
        ).all()
    )


async def received_totals(conn: AsyncConnection) -> dict[str, int]:
    """Per currency, the sum of every payment the gateways reported paid (refunded ones
    included)."""
    rows = await conn.execute(
        select(payments.c.currency, func.sum(payments.c.amount_minor))
        .where(payments.c.status.in_((PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED)))
        .group_by(payments.c.currency)
    )
    return {currency: int(total) for currency, total in rows}


def _refund(row: Row[Any]) -> Refund:
    return Refund(
        id=row.id,
        payment_id=row.payment_id,
        amount_minor=row.amount_minor,
        currency=row.currency,
        reason=row.reason,
        status=row.status,
        gateway_refund_id=row.gateway_refund_id,
    )


async def add_refund(conn: AsyncConnection, refund: Refund, *, now: datetime) -> None:
    await conn.execute(
        insert(refunds).values(
            id=refund.id,
            payment_id=refund.payment_id,
            amount_minor=refund.amount_minor,
            currency=refund.currency,
            reason=refund.reason,
            status=refund.status,
            created_at=now,
        )
    )


async def get_refund(conn: AsyncConnection, refund_id: UUID) -> Refund | None:
    row = (await conn.execute(select(refunds).where(refunds.c.id == refund_id))).one_or_none()
    return _refund(row) if row else None


async def refund_of_payment(conn: AsyncConnection, payment_id: UUID) -> Refund | None:
    row = (
        await conn.execute(select(refunds).where(refunds.c.payment_id == payment_id))
    ).one_or_none()
    return _refund(row) if row else None


async def refunds_of_payments(
    conn: AsyncConnection, payment_ids: Sequence[UUID]
) -> dict[UUID, Refund]:
    if not payment_ids:
        return {}
    rows = await conn.execute(select(refunds).where(refunds.c.payment_id.in_(payment_ids)))
    return {r.payment_id: _refund(r) for r in rows}


async def refund_paid(
    conn: AsyncConnection, refund_id: UUID, *, gateway_refund_id: str, now: datetime
) -> bool:
    """Mark the refund done, once; False if it already was."""
    done = await conn.execute(
        update(refunds)
        .where(refunds.c.id == refund_id, refunds.c.status == "pending")
        .values(status="succeeded", gateway_refund_id=gateway_refund_id, succeeded_at=now)
    )
    return done.rowcount == 1
