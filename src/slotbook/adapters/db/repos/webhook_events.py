"""Webhook events, each recorded once per (gateway, event id), with its effect."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from slotbook.adapters.db.payment_tables import webhook_events
from slotbook.domain.gateway import GatewayEvent

_RECORD = {  # built once per dialect; the values come as parameters
    name: dialect.insert(webhook_events).on_conflict_do_nothing(
        index_elements=["gateway", "event_id"]
    )
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


async def record_once(
    conn: AsyncConnection, gateway: str, event: GatewayEvent, *, now: datetime
) -> bool:
    """Record the event in the caller's transaction; False if it was recorded before."""
    statement = _RECORD[conn.dialect.name]
    values = {
        "gateway": gateway,
        "event_id": event.event_id,
        "kind": event.kind,
        "gateway_payment_id": event.gateway_payment_id,
        "received_at": now,
    }
    done = await conn.execute(statement, values)
    return done.rowcount == 1
