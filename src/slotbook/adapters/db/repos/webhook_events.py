"""Webhook events, each recorded once per (gateway, event id), with its effect."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import bindparam, func, literal_column, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from slotbook.adapters.db.payment_tables import webhook_events
from slotbook.adapters.db.repos.payments import BY_GATEWAY_ID
from slotbook.domain.gateway import GatewayEvent

_COLUMNS = ("gateway", "event_id", "kind", "gateway_payment_id", "received_at")
_RECORD = {  # built once per dialect; the values come as parameters
    name: dialect.insert(webhook_events).on_conflict_do_nothing(
        index_elements=["gateway", "event_id"]
    )
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


RECORDED = (  # the event's record as a WITH part: one row if it is new, none if seen before
    postgresql.insert(webhook_events)
    .values({name: bindparam(name) for name in _COLUMNS})  # named: the lookup shares two
    .on_conflict_do_nothing(index_elements=["gateway", "event_id"])
    .returning(literal_column("1"))
    .cte("recorded")
)
# PostgreSQL: the event recorded and its payment looked up by the gateway's id in one
# round trip (the lookup reads no row the insert writes)
_RECORD_AND_FIND = select(
    select(func.count()).select_from(RECORDED).scalar_subquery().label("fresh"),
    BY_GATEWAY_ID.scalar_subquery().label("payment_id"),
)


async def record_and_find(
    conn: AsyncConnection, gateway: str, event: GatewayEvent, *, now: datetime
) -> tuple[bool, UUID | None]:
    """Record the event (False if it was recorded before), and find the payment of
    `gateway` with the event's gateway payment id (None: none has it yet)."""
    if conn.dialect.name != "postgresql":
        fresh = await record_once(conn, gateway, event, now=now)
        found = await conn.scalar(
            BY_GATEWAY_ID, {"gateway": gateway, "gateway_payment_id": event.gateway_payment_id}
        )
        return fresh, UUID(str(found)) if found is not None else None
    row = (await conn.execute(_RECORD_AND_FIND, event_values(gateway, event, now))).one()
    return row.fresh == 1, UUID(str(row.payment_id)) if row.payment_id is not None else None


def event_values(gateway: str, event: GatewayEvent, now: datetime) -> dict[str, object]:
    return {
        "gateway": gateway,
        "event_id": event.event_id,
        "kind": event.kind,
        "gateway_payment_id": event.gateway_payment_id,
        "received_at": now,
    }


async def record_once(
    conn: AsyncConnection, gateway: str, event: GatewayEvent, *, now: datetime
) -> bool:
    """Record the event in the caller's transaction; False if it was recorded before."""
    done = await conn.execute(_RECORD[conn.dialect.name], event_values(gateway, event, now))
    return done.rowcount == 1
