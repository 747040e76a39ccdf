"""Queries on the sandbox's events and their deliveries (the webhook outbox).

An event is written in the same transaction as the change it reports, with one delivery
row per copy to send. Workers claim due rows with one conditional `UPDATE ... RETURNING`
and a lease, so two processes never send the same row at once, and a process that dies
mid-send leaves the row to be claimed again once its lease ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, literal_column, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncConnection

from slotbook.domain.gateway import EventKind
from slotbook.sandbox.model import (
    EVENT_PREFIX,
    PaymentRecord,
    RefundRecord,
    WebhookShaping,
    event_body,
    new_id,
    rfc3339,
)
from slotbook.sandbox.tables import UtcMillis, deliveries, events

PENDING, DELIVERED, DROPPED, ABANDONED = "pending", "delivered", "dropped", "abandoned"


@dataclass(frozen=True, slots=True)
class DueDelivery:
    id: int
    event_id: str
    url: str
    body: str
    attempts: int  # including the one now claimed
    give_up_at: datetime


async def record_event(
    conn: AsyncConnection,
    kind: EventKind,
    *,
    payment: PaymentRecord,
    refund: RefundRecord | None = None,
    now: datetime,
    shaping: WebhookShaping,
    give_up_after: timedelta,
) -> str:
    """Write the event and its deliveries (1 + duplicates; all `dropped` when dropped)."""
    event_id = new_id(EVENT_PREFIX)
    body = event_body(event_id, kind, created_at=now, payment=payment, refund=refund)
    await conn.execute(
        events.insert().values(
            id=event_id,
            type=kind.value,
            payment_id=payment.id,
            refund_id=refund.id if refund else None,
            created_at=now,
            body=body,
        )
    )
    due_at = now + timedelta(milliseconds=shaping.delay_ms)
    copy = {
        "event_id": event_id,
        "url": payment.notify_url,
        "status": DROPPED if shaping.drop else PENDING,
        "due_at": due_at,
        "give_up_at": due_at + give_up_after,
    }
    await conn.execute(deliveries.insert(), [copy] * (1 + shaping.duplicates))
    return event_id


async def next_claimable_at(conn: AsyncConnection) -> datetime | None:
    """When a pending delivery can next be claimed: its due time, or the end of the lease
    another worker holds on it."""
    lease_end = func.coalesce(deliveries.c.claimed_until, deliveries.c.due_at)
    claimable = func.max(deliveries.c.due_at, lease_end)  # SQLite's two-argument max
    when: datetime | None = await conn.scalar(
        select(func.min(claimable, type_=UtcMillis)).where(deliveries.c.status == PENDING)
    )
    return when


async def claim_due(
    conn: AsyncConnection,
    *,
    now: datetime,
    lease_until: datetime,
    limit: int,
    event_id: str | None = None,
) -> list[DueDelivery]:
    """Take up to `limit` due deliveries no other worker holds (of one event, if given),
    until `lease_until`."""
    free = or_(deliveries.c.claimed_until.is_(None), deliveries.c.claimed_until <= now)
    of_event = deliveries.c.event_id == event_id if event_id is not None else true()
    due_ids = (
        select(deliveries.c.id)
        .where(deliveries.c.status == PENDING, deliveries.c.due_at <= now, free, of_event)
        .order_by(deliveries.c.due_at, deliveries.c.id)
        .limit(limit)
        .scalar_subquery()
    )
    claimed = await conn.execute(
        update(deliveries)
        .where(deliveries.c.id.in_(due_ids), deliveries.c.status == PENDING, free)
        .values(claimed_until=lease_until, attempts=deliveries.c.attempts + 1, last_attempt_at=now)
        .returning(
            deliveries.c.id,
            deliveries.c.event_id,
            deliveries.c.url,
            deliveries.c.attempts,
            deliveries.c.give_up_at,
        )
    )
    rows = claimed.all()
    if not rows:
        return []
    found = await conn.execute(
        select(events.c.id, events.c.body).where(events.c.id.in_({r.event_id for r in rows}))
    )
    bodies = {event.id: event.body for event in found}
    return [
        DueDelivery(r.id, r.event_id, r.url, bodies[r.event_id], r.attempts, r.give_up_at)
        for r in sorted(rows, key=lambda r: r.id)
    ]


async def mark_delivered(
    conn: AsyncConnection, delivery_id: int, *, now: datetime, status_code: int
) -> None:
    await conn.execute(
        update(deliveries)
        .where(deliveries.c.id == delivery_id, deliveries.c.status == PENDING)
        .values(
            status=DELIVERED, delivered_at=now, claimed_until=None, last_status_code=status_code
        )
    )


async def mark_failed(
    conn: AsyncConnection,
    delivery_id: int,
    *,
    retry_at: datetime | None,
    status_code: int | None,
    error: str | None,
) -> None:
    """Schedule the next attempt at `retry_at`, or abandon the delivery (None)."""
    await conn.execute(
        update(deliveries)
        .where(deliveries.c.id == delivery_id, deliveries.c.status == PENDING)
        .values(
            status=PENDING if retry_at else ABANDONED,
            due_at=retry_at or deliveries.c.due_at,
            claimed_until=None,
            last_status_code=status_code,
            last_error=error,
        )
    )


async def events_of(conn: AsyncConnection, payment_id: str) -> list[dict[str, Any]]:
    """The payment's events, oldest first, each with its deliveries: what was sent, when."""
    found = (
        await conn.execute(
            select(events)
            .where(events.c.payment_id == payment_id)
            .order_by(events.c.created_at, literal_column("rowid"))
        )
    ).all()
    copies = (
        await conn.execute(
            select(deliveries)
            .where(deliveries.c.event_id.in_([e.id for e in found]))
            .order_by(deliveries.c.id)
        )
    ).all()
    return [
        {
            "id": event.id,
            "type": event.type,
            "created_at": rfc3339(event.created_at),
            "refund_id": event.refund_id,
            "deliveries": [_delivery_view(c) for c in copies if c.event_id == event.id],
        }
        for event in found
    ]


def _delivery_view(row: Any) -> dict[str, Any]:
    def when(value: datetime | None) -> str | None:
        return rfc3339(value) if value else None

    return {
        "status": row.status,
        "attempts": row.attempts,
        "due_at": when(row.due_at),
        "claimed_until": when(row.claimed_until),
        "last_attempt_at": when(row.last_attempt_at),
        "delivered_at": when(row.delivered_at),
        "last_status_code": row.last_status_code,
        "last_error": row.last_error,
    }
