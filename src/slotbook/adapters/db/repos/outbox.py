"""The outbox: obligations to act outside the database, written with the fact that
creates them and carried out by any number of workers.

A worker takes due rows with SKIP LOCKED (PostgreSQL) and a lease, in a short
transaction of its own, then acts (gateway calls happen outside any transaction), then
marks each row done or due again later. A worker that dies leaves its rows to the next
one when the lease runs out, so an obligation is never forgotten; it may be carried out
twice, which is why every outside call carries an idempotency key.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from slotbook.adapters.db.payment_tables import outbox, payments
from slotbook.domain.states import PaymentStatus


class TaskKind(StrEnum):
    CANCEL_HOLD_PAYMENTS = "cancel_hold_payments"  # subject: a released hold
    CANCEL_PAYMENT = "cancel_payment"  # subject: a payment replaced by another
    REFUND = "refund"  # subject: a refund
    CONFIRM_DEADLINE = "confirm_deadline"  # subject: a payment whose customer is back
    RECONCILE_PAYMENT = "reconcile_payment"  # subject: a payment stuck pending


@dataclass(frozen=True, slots=True)
class Task:
    id: UUID
    kind: TaskKind
    subject_id: UUID
    attempts: int


async def add(
    conn: AsyncConnection, kind: TaskKind, subject_id: UUID, *, due_at: datetime, now: datetime
) -> None:
    """Record an obligation in the caller's transaction."""
    await conn.execute(
        insert(outbox).values(
            id=uuid.uuid4(),
            kind=kind,
            subject_id=subject_id,
            due_at=due_at,
            attempts=0,
            created_at=now,
        )
    )


async def outstanding(conn: AsyncConnection, kind: TaskKind, subject_id: UUID) -> bool:
    """True if an obligation of that kind on that subject is not done yet."""
    found = await conn.scalar(
        select(outbox.c.id)
        .where(outbox.c.kind == kind, outbox.c.subject_id == subject_id, outbox.c.done_at.is_(None))
        .limit(1)
    )
    return found is not None


async def take_due(
    conn: AsyncConnection, *, now: datetime, lease: timedelta, limit: int
) -> list[Task]:
    """Lease up to `limit` due obligations nobody else holds, oldest due first."""
    due = (
        select(outbox.c.id)
        .where(
            outbox.c.done_at.is_(None),
            outbox.c.due_at <= now,
            or_(outbox.c.leased_until.is_(None), outbox.c.leased_until <= now),
        )
        .order_by(outbox.c.due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list((await conn.scalars(due)).all())
    if not ids:
        return []
    rows = await conn.execute(
        update(outbox)
        .where(outbox.c.id.in_(ids))
        .values(leased_until=now + lease, attempts=outbox.c.attempts + 1)
        .returning(outbox.c.id, outbox.c.kind, outbox.c.subject_id, outbox.c.attempts)
    )
    tasks = [Task(r.id, TaskKind(r.kind), r.subject_id, r.attempts) for r in rows]
    return sorted(tasks, key=lambda t: ids.index(t.id))


async def done(conn: AsyncConnection, task_id: UUID, *, now: datetime) -> None:
    await conn.execute(
        update(outbox).where(outbox.c.id == task_id).values(done_at=now, leased_until=None)
    )


async def again_at(conn: AsyncConnection, task_id: UUID, *, due_at: datetime, error: str) -> None:
    """Due again at `due_at` (the lease ends), remembering why the attempt failed."""
    await conn.execute(
        update(outbox)
        .where(and_(outbox.c.id == task_id, outbox.c.done_at.is_(None)))
        .values(due_at=due_at, leased_until=None, last_error=error[:2000])
    )


async def oblige_withdrawal(
    conn: AsyncConnection, released_hold_ids: Sequence[UUID], *, now: datetime
) -> int:
    """In the releasing transaction: a `cancel_hold_payments` for each released hold that
    has a pending payment (most have none, and then nothing is written); how many."""
    if not released_hold_ids:
        return 0
    with_pending = (
        await conn.scalars(
            select(payments.c.hold_id)
            .where(
                payments.c.hold_id.in_(released_hold_ids),
                payments.c.status == PaymentStatus.PENDING,
            )
            .distinct()
        )
    ).all()
    for hold_id in with_pending:
        await add(conn, TaskKind.CANCEL_HOLD_PAYMENTS, hold_id, due_at=now, now=now)
    return len(with_pending)
