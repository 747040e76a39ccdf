"""Providers, their services and their slots."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Row, and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from slotbook.adapters.db.tables import providers, services, slots
from slotbook.domain.errors import SlotOverlap
from slotbook.domain.model import Provider, Service
from slotbook.domain.slots import Slot
from slotbook.domain.states import SlotStatus


@dataclass(frozen=True, slots=True)
class SlotFilter:
    provider_id: UUID | None = None
    category: str | None = None
    starts_from: datetime | None = None
    starts_before: datetime | None = None
    available_only: bool = False
    limit: int = 500


def _provider(row: Row[Any], categories: Sequence[str] = ()) -> Provider:
    return Provider(
        id=row.id,
        user_id=row.user_id,
        display_name=row.display_name,
        timezone=row.timezone,
        bio=row.bio,
        categories=tuple(sorted(categories)),
    )


def _service(row: Row[Any]) -> Service:
    return Service(
        id=row.id,
        provider_id=row.provider_id,
        name=row.name,
        category=row.category,
        duration_minutes=row.duration_minutes,
        price_minor=row.price_minor,
        currency=row.currency,
    )


def slot_from_row(row: Row[Any]) -> Slot:
    return Slot(
        id=row.id,
        provider_id=row.provider_id,
        service_id=row.service_id,
        category=row.category,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        price_minor=row.price_minor,
        currency=row.currency,
        status=SlotStatus(row.status),
        held_until=row.held_until,
        hold_id=row.hold_id,
    )


def bookable_at(now: datetime) -> ColumnElement[bool]:
    """SQL for "free to hold at `now`": available, or held by a hold that ran out."""
    return and_(
        slots.c.starts_at > now,
        slots.c.status.in_((SlotStatus.AVAILABLE, SlotStatus.HELD)),
        or_(
            slots.c.status == SlotStatus.AVAILABLE,
            and_(slots.c.status == SlotStatus.HELD, slots.c.held_until <= now),
        ),
    )


async def add_provider(conn: AsyncConnection, provider: Provider, *, now: datetime) -> None:
    await conn.execute(
        insert(providers).values(
            id=provider.id,
            user_id=provider.user_id,
            display_name=provider.display_name,
            timezone=provider.timezone,
            bio=provider.bio,
            created_at=now,
        )
    )


async def update_provider(conn: AsyncConnection, provider_id: UUID, **changes: str) -> None:
    if changes:
        await conn.execute(update(providers).where(providers.c.id == provider_id).values(changes))


async def lock_provider(
    conn: AsyncConnection, provider_id: UUID, *, skip_locked: bool = False
) -> bool:
    """Take the provider's row lock (FOR NO KEY UPDATE) until the transaction ends.

    Writers of one provider's slots queue here, so their inserts never interleave and the
    overlap constraint cannot deadlock them. It does not block foreign-key checks (they
    take KEY SHARE) nor the hold path, which never touches the provider's row. False when
    there is no such provider (or, with `skip_locked`, when another writer has it). A no-op
    on SQLite, where writers are serialised anyway.
    """
    row = await conn.execute(
        select(providers.c.id)
        .where(providers.c.id == provider_id)
        .with_for_update(key_share=True, skip_locked=skip_locked)
    )
    return row.one_or_none() is not None


async def _categories(conn: AsyncConnection, ids: Sequence[UUID]) -> dict[UUID, list[str]]:
    if not ids:
        return {}
    rows = await conn.execute(
        select(services.c.provider_id, services.c.category)
        .where(services.c.provider_id.in_(ids))
        .distinct()
    )
    found: dict[UUID, list[str]] = {}
    for provider_id, category in rows:
        found.setdefault(provider_id, []).append(category)
    return found


async def get_provider(conn: AsyncConnection, provider_id: UUID) -> Provider | None:
    row = (await conn.execute(select(providers).where(providers.c.id == provider_id))).one_or_none()
    if row is None:
        return None
    return _provider(row, (await _categories(conn, [row.id])).get(row.id, []))


async def list_providers(
    conn: AsyncConnection, *, category: str | None, text: str | None, limit: int = 200
) -> list[Provider]:
    stmt = select(providers).order_by(providers.c.display_name, providers.c.id).limit(limit)
    if category:
        stmt = stmt.where(
            providers.c.id.in_(
                select(services.c.provider_id).where(services.c.category == category)
            )
        )
    if text:
        needle = text.lower()  # matched literally: % and _ are escaped, not wildcards
        stmt = stmt.where(
            or_(
                func.lower(providers.c.display_name).contains(needle, autoescape=True),
                func.lower(providers.c.bio).contains(needle, autoescape=True),
            )
        )
    rows = (await conn.execute(stmt)).all()
    cats = await _categories(conn, [r.id for r in rows])
    return [_provider(r, cats.get(r.id, [])) for r in rows]


async def add_service(conn: AsyncConnection, service: Service, *, now: datetime) -> None:
    await conn.execute(
        insert(services).values(
            id=service.id,
            provider_id=service.provider_id,
            name=service.name,
            category=service.category,
            duration_minutes=service.duration_minutes,
            price_minor=service.price_minor,
            currency=service.currency,
            created_at=now,
        )
    )


async def get_service(conn: AsyncConnection, service_id: UUID) -> Service | None:
    row = (await conn.execute(select(services).where(services.c.id == service_id))).one_or_none()
    return _service(row) if row else None


async def list_services(conn: AsyncConnection, provider_id: UUID) -> list[Service]:
    rows = await conn.execute(
        select(services)
        .where(services.c.provider_id == provider_id)
        .order_by(services.c.name, services.c.id)
    )
    return [_service(r) for r in rows]


async def add_slots(conn: AsyncConnection, new: Sequence[Slot], *, now: datetime) -> None:
    """Insert the slots, all or none; SlotOverlap when the schema refuses an overlap.

    Rows go in by start time, one canonical order for every writer.
    """
    rows = [
        {
            "id": s.id,
            "provider_id": s.provider_id,
            "service_id": s.service_id,
            "category": s.category,
            "starts_at": s.starts_at,
            "ends_at": s.ends_at,
            "price_minor": s.price_minor,
            "currency": s.currency,
            "status": s.status,
            "created_at": now,
        }
        for s in sorted(new, key=lambda s: (s.starts_at, s.id))
    ]
    try:
        async with conn.begin_nested():
            await conn.execute(insert(slots), rows)
    except IntegrityError as exc:
        if "overlap" in str(exc.orig) or "slots_no_overlap" in str(exc.orig):
            raise SlotOverlap("a slot overlaps an existing slot of this provider") from exc
        raise


async def get_slot(conn: AsyncConnection, slot_id: UUID) -> Slot | None:
    row = (await conn.execute(select(slots).where(slots.c.id == slot_id))).one_or_none()
    return slot_from_row(row) if row else None


async def list_slots(conn: AsyncConnection, f: SlotFilter, *, now: datetime) -> list[Slot]:
    stmt = select(slots).order_by(slots.c.starts_at, slots.c.id).limit(f.limit)
    if f.provider_id is not None:
        stmt = stmt.where(slots.c.provider_id == f.provider_id)
    if f.category:
        stmt = stmt.where(slots.c.category == f.category)
    if f.starts_from is not None:
        stmt = stmt.where(slots.c.starts_at >= f.starts_from)
    if f.starts_before is not None:
        stmt = stmt.where(slots.c.starts_at < f.starts_before)
    if f.available_only:
        stmt = stmt.where(bookable_at(now))
    return [slot_from_row(r) for r in await conn.execute(stmt)]
