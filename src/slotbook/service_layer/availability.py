"""Provider availability: publish weekly hours, and materialise slots from them.

Publishing validates the whole document (every broken rule reported at once, nothing
stored) and marks it due; the worker (`materialise_due`, run by the sweeper) turns it
into slots over a rolling horizon (`availability_horizon_days`, at most the booking
horizon), idempotently: running it again changes nothing, held and booked slots are never
touched, and hours taken away close only free slots (domain/materialise.py has the rules).

Lock order: the provider's row first (as for slots added by hand), then the availability
row, then slots. The worker takes the provider's lock with SKIP LOCKED: a provider being
published or materialised elsewhere is left to the next round, still due.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import structlog

from slotbook.adapters.db.engine import Connection
from slotbook.adapters.db.repos import availability as repo
from slotbook.adapters.db.repos import catalog
from slotbook.domain import validation
from slotbook.domain.availability import Availability, Problem, durations_known, problems
from slotbook.domain.errors import InvalidRequest, ProviderNotFound
from slotbook.domain.materialise import Changes, plan
from slotbook.domain.model import Service
from slotbook.domain.schedule import PlannedSlot, expand
from slotbook.domain.slots import Slot
from slotbook.domain.states import SlotStatus
from slotbook.service_layer.context import Context

REFRESH = timedelta(hours=1)  # how often a provider's rolling window moves on
RETRY_AFTER_FAULT = timedelta(minutes=1)
DUE_BATCH = 20
log = structlog.get_logger("slotbook.availability")


@dataclass(frozen=True, slots=True)
class View:
    provider_id: UUID
    timezone: str
    horizon_days: int
    stored: repo.Stored | None


def horizon_days(ctx: Context) -> int:
    return min(ctx.settings.availability_horizon_days, ctx.settings.booking_horizon_days)


async def get_availability(ctx: Context, *, provider_id: UUID) -> View:
    """The provider's availability as last published (none yet: an empty one)."""
    async with ctx.db.read() as conn:
        provider = await catalog.get_provider(conn, provider_id)
        if provider is None:
            raise ProviderNotFound("no provider profile for this account")
        stored = await repo.read(conn, provider_id)
    return View(provider_id, provider.timezone, horizon_days(ctx), stored)


async def publish(
    ctx: Context, *, provider_id: UUID, availability: Availability, timezone: str | None
) -> View:
    """Replace the provider's availability, all or nothing; `timezone`, when given, becomes
    the provider's time zone too. Raises InvalidRequest listing every rule broken."""
    found = [Problem(("timezone",), msg) for msg in _zone_problems(timezone)]
    found += problems(availability)
    now = ctx.clock.now()
    async with ctx.db.write() as conn:
        if not await catalog.lock_provider(conn, provider_id):
            raise ProviderNotFound("no provider profile for this account")
        services = {
            s.id: s.duration_minutes for s in await catalog.list_services(conn, provider_id)
        }
        found += durations_known(availability, services)
        if found:
            raise _invalid(found)
        if timezone is not None:
            await catalog.update_provider(conn, provider_id, timezone=timezone)
        await repo.publish(conn, provider_id, availability, now=now)
    return await get_availability(ctx, provider_id=provider_id)


def _zone_problems(timezone: str | None) -> list[str]:
    if timezone is None:
        return []
    try:
        validation.check_timezone(timezone)
    except ValueError as exc:
        return [str(exc)]
    return []


def _invalid(found: list[Problem]) -> InvalidRequest:
    errors = [
        {"loc": ["body", *p.loc], "msg": p.msg, "type": "invalid-availability"} for p in found
    ]
    return InvalidRequest(found[0].msg, loc=("body", *found[0].loc), errors=errors)


async def materialise_due(ctx: Context, *, limit: int = DUE_BATCH) -> int:
    """Materialise every provider whose availability is due, up to `limit`; how many were.
    One provider's fault is logged and retried a minute later; the others go on."""
    async with ctx.db.read() as conn:
        providers = await repo.due(conn, now=ctx.clock.now(), limit=limit)
    done = 0
    for provider_id in providers:
        try:
            done += await materialise(ctx, provider_id=provider_id) is not None
        except Exception:
            log.exception("availability_materialise_failed", provider_id=str(provider_id))
            await _postpone(ctx, provider_id)
    return done


async def _postpone(ctx: Context, provider_id: UUID) -> None:
    """Try the provider again in a minute; if even that fails, it stays due."""
    try:
        async with ctx.db.write() as conn:
            await repo.postpone(conn, provider_id, until=ctx.clock.now() + RETRY_AFTER_FAULT)
    except Exception:
        log.warning("availability_not_postponed", provider_id=str(provider_id), exc_info=True)


async def materialise(ctx: Context, *, provider_id: UUID) -> Changes | None:
    """Bring the provider's slots in line with its availability, in one transaction; the
    changes made, or None when it was not due or another writer had the provider."""
    now = ctx.clock.now()
    async with ctx.db.write() as conn:
        if not await catalog.lock_provider(conn, provider_id, skip_locked=True):
            return None
        stored = await repo.read(conn, provider_id)
        provider = await catalog.get_provider(conn, provider_id)
        if stored is None or provider is None or stored.due_at > now:
            return None
        services = {s.id: s for s in await catalog.list_services(conn, provider_id)}
        desired = expand(
            stored.availability,
            zone=ZoneInfo(provider.timezone),
            durations={k: s.duration_minutes for k, s in services.items()},
            after=now,
            until=now + timedelta(days=horizon_days(ctx)),
        )
        existing = await repo.slots_ending_after(conn, provider_id, after=now)
        changes, complete = await _apply(
            conn, plan(desired, existing, now=now), services=services, now=now
        )
        # a slot skipped because another writer had it: try again soon rather than in an hour
        await repo.mark_materialised(
            conn,
            provider_id,
            version=stored.version,
            now=now,
            next_due=now + (REFRESH if complete else RETRY_AFTER_FAULT),
        )
    _log(provider_id, changes)
    return changes


async def _apply(
    conn: Connection, changes: Changes, *, services: dict[UUID, Service], now: datetime
) -> tuple[Changes, bool]:
    """Write the changes; those made, and whether all of them were (a free slot another
    writer had locked is left, and what it would have made room for waits)."""
    deleted = await repo.delete_unreferenced(conn, changes.delete)
    if deleted < len(changes.delete):
        changes = replace(changes, insert=[], skipped=changes.skipped + changes.insert)
    closed = await repo.set_free_status(
        conn, changes.close, old=SlotStatus.AVAILABLE, new=SlotStatus.CLOSED
    )
    reopened = await repo.set_free_status(
        conn, changes.reopen, old=SlotStatus.CLOSED, new=SlotStatus.AVAILABLE
    )
    new = [_slot(services[p.service_id], p) for p in changes.insert]
    await repo.open_slots(conn, new, now=now)
    complete = (deleted, closed, reopened) == (
        len(changes.delete),
        len(changes.close),
        len(changes.reopen),
    )
    return changes, complete


def _slot(service: Service, planned: PlannedSlot) -> Slot:
    return Slot(
        id=uuid.uuid4(),
        provider_id=service.provider_id,
        service_id=service.id,
        category=service.category,
        starts_at=planned.starts_at,
        ends_at=planned.ends_at,
        price_minor=service.price_minor,
        currency=service.currency,
        status=SlotStatus.AVAILABLE,
    )


def _log(provider_id: UUID, c: Changes) -> None:
    if c.insert or c.reopen or c.close or c.delete or c.skipped:
        log.info(
            "availability_materialised",
            provider_id=str(provider_id),
            opened=len(c.insert),
            reopened=len(c.reopen),
            closed=len(c.close),
            deleted=len(c.delete),
            skipped=len(c.skipped),
        )
