"""The provider side: its profile, its services and its slots."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from uuid import UUID

from slotbook.adapters.db.engine import Connection
from slotbook.adapters.db.repos import availability as availability_repo
from slotbook.adapters.db.repos import catalog
from slotbook.adapters.db.retry import write_retrying
from slotbook.domain import validation
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
    if timezone is not None:
        try:
            timezone = validation.check_timezone(timezone)
        except ValueError as exc:
            raise InvalidRequest(str(exc), loc=("body", "timezone")) from None
    changes = {
        k: v
        for k, v in {"display_name": display_name, "timezone": timezone, "bio": bio}.items()
        if v is not None
    }
    async with ctx.db.write() as conn:
        await catalog.update_provider(conn, provider_id, **changes)
        if timezone is not None:  # the weekly hours are wall-clock times in this zone
            await availability_repo.mark_due(conn, provider_id, now=ctx.clock.now())
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
    """Add a service the provider sells; its price must be more than zero (InvalidRequest)."""
    try:
        validation.check_price_minor(price_minor)
    except ValueError as exc:
        raise InvalidRequest(str(exc), loc=("body", "price_minor")) from None
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
    """Create one slot per start time, all or none: any overlap refuses the whole batch.

    Slots start after now and within the booking horizon (SLOTBOOK_BOOKING_HORIZON_DAYS).
    Lock order: the provider's row first (FOR NO KEY UPDATE), before any slot, so one
    provider's concurrent batches run one after another; provider-profile writes come
    before the booking path's slot, hold, payment, booking, ledger.
    """
    now = ctx.clock.now()
    if not starts_at or len(starts_at) > MAX_SLOTS_PER_BATCH:
        raise InvalidRequest(
            f"give between 1 and {MAX_SLOTS_PER_BATCH} start times", loc=("body", "starts_at")
        )
    starts = _within_horizon(starts_at, now=now, days=ctx.settings.booking_horizon_days)

    async def write(conn: Connection) -> list[Slot]:
        if not await catalog.lock_provider(conn, provider_id):
            raise ProviderNotFound("no provider profile for this account")
        service = await catalog.get_service(conn, service_id)
        if service is None or service.provider_id != provider_id:
            raise ServiceNotFound("no such service of this provider")
        new = [_slot(service, t) for t in starts]
        if overlapping([(s.starts_at, s.ends_at) for s in new]):
            raise SlotOverlap("two of the given slots overlap each other")
        await catalog.add_slots(conn, new, now=now)
        return new

    return await write_retrying(ctx.db, write)


def _within_horizon(starts_at: Sequence[datetime], *, now: datetime, days: int) -> list[datetime]:
    """The start times in UTC, each after `now` and at most `days` ahead."""
    latest = now + timedelta(days=days)
    found: list[datetime] = []
    for i, t in enumerate(starts_at):
        if t.tzinfo is None:
            raise InvalidRequest("start times need a time zone", loc=("body", "starts_at", i))
        if not now < t <= latest:
            raise InvalidRequest(
                f"slots must start after {validation.iso(now)} and at most {days} days ahead "
                f"(by {validation.iso(latest)})",
                loc=("body", "starts_at", i),
            )
        found.append(t.astimezone(UTC))
    return found


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
