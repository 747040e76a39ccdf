"""The provider side: its profile, its services and its slots."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any
from uuid import UUID
from zoneinfo import available_timezones

from sqlalchemy import select

from slotbook.adapters.db.repos import catalog
from slotbook.adapters.db.tables import bookings
from slotbook.domain.errors import InvalidRequest, ProviderNotFound, ServiceNotFound, SlotOverlap
from slotbook.domain.model import Provider, Service
from slotbook.domain.slots import Slot, overlapping, slot_times
from slotbook.domain.states import SlotStatus
from slotbook.service_layer.context import Context

MAX_SLOTS_PER_BATCH = 1000


async def update_profile(
    ctx: Context,
    *,
    provider_id: UUID,
    display_name: str | None = None,
    timezone: str | None = None,
    bio: str | None = None,
) -> Provider:
    """Change the provider's own profile; the time zone must be a real IANA zone."""
    if timezone is not None and timezone not in _zones():
        raise InvalidRequest(f"unknown time zone {timezone!r}")
    changes = {
        k: v
        for k, v in {"display_name": display_name, "timezone": timezone, "bio": bio}.items()
        if v is not None
    }
    async with ctx.db.write() as conn:
        await catalog.update_provider(conn, provider_id, **changes)
        provider = await catalog.get_provider(conn, provider_id)
    if provider is None:
        raise ProviderNotFound("no provider profile for this account")
    return provider


async def add_service(
    ctx: Context,
    *,
    provider_id: UUID,
    name: str,
    category: str,
    duration_minutes: int,
    price_minor: int,
    currency: str,
) -> Service:
    """Add a service the provider sells."""
    service = Service(
        id=uuid.uuid4(),
        provider_id=provider_id,
        name=name.strip(),
        category=category.strip().lower(),
        duration_minutes=duration_minutes,
        price_minor=price_minor,
        currency=currency.upper(),
    )
    async with ctx.db.write() as conn:
        await catalog.add_service(conn, service, now=ctx.clock.now())
    return service


async def add_slots(
    ctx: Context, *, provider_id: UUID, service_id: UUID, starts_at: Sequence[datetime]
) -> list[Slot]:
    """Create one slot per start time, all or none: any overlap refuses the whole batch."""
    now = ctx.clock.now()
    if not starts_at or len(starts_at) > MAX_SLOTS_PER_BATCH:
        raise InvalidRequest(f"give between 1 and {MAX_SLOTS_PER_BATCH} start times")
    if any(t <= now for t in starts_at):
        raise InvalidRequest("slots must start in the future")
    async with ctx.db.write() as conn:
        service = await catalog.get_service(conn, service_id)
        if service is None or service.provider_id != provider_id:
            raise ServiceNotFound("no such service of this provider")
        new = [_slot(service, t) for t in starts_at]
        if overlapping([(s.starts_at, s.ends_at) for s in new]):
            raise SlotOverlap("two of the given slots overlap each other")
        await catalog.add_slots(conn, new, now=now)
    return new


def _slot(service: Service, starts_at: datetime) -> Slot:
    start, end = slot_times(starts_at, service.duration_minutes)
    return Slot(
        id=uuid.uuid4(),
        provider_id=service.provider_id,
        service_id=service.id,
        category=service.category,
        starts_at=start,
        ends_at=end,
        price_minor=service.price_minor,
        currency=service.currency,
        status=SlotStatus.AVAILABLE,
    )


async def provider_bookings(ctx: Context, *, provider_id: UUID) -> list[dict[str, Any]]:
    """The provider's own bookings, newest first."""
    async with ctx.db.read() as conn:
        rows = await conn.execute(
            select(bookings)
            .where(bookings.c.provider_id == provider_id)
            .order_by(bookings.c.confirmed_at.desc())
        )
        return [dict(r._mapping) for r in rows]


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())
