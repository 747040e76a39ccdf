"""Provider availability: the published document, and the slots it opened.

The document is stored as JSON in slotbook's own compact form (minutes since midnight,
weekdays 0-6); `encode` / `decode` are the only readers and writers of that form.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

import orjson
from sqlalchemy import delete, exists, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from slotbook.adapters.db.availability_tables import (
    availability_slots,
    provider_availability,
    saved_bookings,
)
from slotbook.adapters.db.repos.catalog import add_slots, slot_from_row
from slotbook.adapters.db.tables import holds, slots
from slotbook.domain.availability import (
    Availability,
    DateOverride,
    OpenHours,
    ServiceHours,
    Span,
    WeeklyHours,
)
from slotbook.domain.materialise import ExistingSlot
from slotbook.domain.slots import Slot
from slotbook.domain.states import SlotStatus


@dataclass(frozen=True, slots=True)
class Stored:
    availability: Availability
    version: int
    updated_at: datetime
    due_at: datetime
    materialised_version: int | None
    materialised_at: datetime | None


def _hours(h: OpenHours) -> dict[str, Any]:
    return {"span": [h.span.start, h.span.end], "breaks": [[b.start, b.end] for b in h.breaks]}


def _open(raw: dict[str, Any]) -> OpenHours:
    return OpenHours(Span(*raw["span"]), tuple(Span(*b) for b in raw["breaks"]))


def encode(a: Availability) -> str:
    return orjson.dumps(
        {
            "services": [
                {
                    "service_id": str(s.service_id),
                    "weekly": [{"weekday": w.weekday, **_hours(w.hours)} for w in s.weekly],
                    "overrides": [
                        {"date": o.day.isoformat(), "hours": [_hours(h) for h in o.hours]}
                        for o in s.overrides
                    ],
                }
                for s in a.services
            ],
            "days_off": sorted(d.isoformat() for d in a.days_off),
        }
    ).decode()


def decode(text: str) -> Availability:
    raw = orjson.loads(text)
    return Availability(
        services=tuple(
            ServiceHours(
                service_id=UUID(s["service_id"]),
                weekly=tuple(WeeklyHours(w["weekday"], _open(w)) for w in s["weekly"]),
                overrides=tuple(
                    DateOverride(date.fromisoformat(o["date"]), tuple(_open(h) for h in o["hours"]))
                    for o in s["overrides"]
                ),
            )
            for s in raw["services"]
        ),
        days_off=frozenset(date.fromisoformat(d) for d in raw["days_off"]),
    )


async def read(conn: AsyncConnection, provider_id: UUID) -> Stored | None:
    stmt = select(provider_availability).where(provider_availability.c.provider_id == provider_id)
    row = (await conn.execute(stmt)).one_or_none()
    if row is None:
        return None
    return Stored(
        availability=decode(row.document),
        version=row.version,
        updated_at=row.updated_at,
        due_at=row.due_at,
        materialised_version=row.materialised_version,
        materialised_at=row.materialised_at,
    )


async def publish(
    conn: AsyncConnection, provider_id: UUID, availability: Availability, *, now: datetime
) -> None:
    """Store the availability as the provider's new version, due to be materialised now.
    The caller holds the provider's row lock, so two publications never race here."""
    where = provider_availability.c.provider_id == provider_id
    values = {"document": encode(availability), "updated_at": now, "due_at": now}
    result = await conn.execute(
        update(provider_availability)
        .where(where)
        .values(version=provider_availability.c.version + 1, **values)
    )
    if result.rowcount == 0:
        await conn.execute(
            insert(provider_availability).values(provider_id=provider_id, version=1, **values)
        )


async def mark_due(conn: AsyncConnection, provider_id: UUID, *, now: datetime) -> None:
    """Materialise the provider's availability again soon (its time zone changed, say)."""
    await conn.execute(
        update(provider_availability)
        .where(provider_availability.c.provider_id == provider_id)
        .values(due_at=now)
    )


async def due(conn: AsyncConnection, *, now: datetime, limit: int) -> list[UUID]:
    """Providers whose availability is due to be materialised, longest waiting first."""
    stmt = (
        select(provider_availability.c.provider_id)
        .where(provider_availability.c.due_at <= now)
        .order_by(provider_availability.c.due_at)
        .limit(limit)
    )
    return list((await conn.execute(stmt)).scalars())


async def mark_materialised(
    conn: AsyncConnection, provider_id: UUID, *, version: int, now: datetime, next_due: datetime
) -> None:
    await conn.execute(
        update(provider_availability)
        .where(provider_availability.c.provider_id == provider_id)
        .values(materialised_version=version, materialised_at=now, due_at=next_due)
    )


async def postpone(conn: AsyncConnection, provider_id: UUID, *, until: datetime) -> None:
    await conn.execute(
        update(provider_availability)
        .where(provider_availability.c.provider_id == provider_id)
        .values(due_at=until)
    )


async def slots_ending_after(
    conn: AsyncConnection, provider_id: UUID, *, after: datetime
) -> list[ExistingSlot]:
    """Every slot of the provider that ends after `after`, whether the availability opened
    it, and whether a hold or a saved booking points at it."""
    opened = exists().where(availability_slots.c.slot_id == slots.c.id)
    held = exists().where(holds.c.slot_id == slots.c.id)
    saved = exists().where(saved_bookings.c.slot_id == slots.c.id)
    stmt = (
        select(slots, opened.label("opened"), (held | saved).label("referenced"))
        .where(slots.c.provider_id == provider_id, slots.c.ends_at > after)
        .order_by(slots.c.starts_at)
    )
    return [
        ExistingSlot(slot_from_row(r), bool(r.opened), bool(r.referenced))
        for r in await conn.execute(stmt)
    ]


async def open_slots(conn: AsyncConnection, new: Sequence[Slot], *, now: datetime) -> None:
    """Insert the slots as opened by the provider's availability."""
    if not new:
        return
    await add_slots(conn, new, now=now)
    await conn.execute(
        insert(availability_slots), [{"slot_id": s.id, "provider_id": s.provider_id} for s in new]
    )


async def _lock_free(
    conn: AsyncConnection, ids: Sequence[UUID], *, status: SlotStatus, unreferenced: bool = False
) -> list[UUID]:
    """Lock those of the slots still in `status` (and, if asked, that nothing points at),
    in id order, skipping any another writer has locked (a hold being taken, say): those
    are left for the next run (see locking.py)."""
    stmt = select(slots.c.id).where(slots.c.id.in_(ids), slots.c.status == status)
    if unreferenced:
        stmt = stmt.where(
            ~exists().where(holds.c.slot_id == slots.c.id),
            ~exists().where(saved_bookings.c.slot_id == slots.c.id),
        )
    stmt = stmt.order_by(slots.c.id).with_for_update(skip_locked=True)
    return list((await conn.execute(stmt)).scalars())


async def set_free_status(
    conn: AsyncConnection, ids: Sequence[UUID], *, old: SlotStatus, new: SlotStatus
) -> int:
    """Move free slots between available and closed; how many moved. A slot no longer
    `old` (held since, say) or locked by another writer is left as it is."""
    if not ids:
        return 0
    locked = await _lock_free(conn, ids, status=old)
    if locked:
        await conn.execute(update(slots).where(slots.c.id.in_(locked)).values(status=new))
    return len(locked)


async def delete_unreferenced(conn: AsyncConnection, ids: Sequence[UUID]) -> int:
    """Delete those of the slots that are still free and that nothing points at; how many."""
    victims: list[UUID] = []
    for status in (SlotStatus.AVAILABLE, SlotStatus.CLOSED):
        if ids:
            victims += await _lock_free(conn, ids, status=status, unreferenced=True)
    if victims:
        await conn.execute(
            delete(availability_slots).where(availability_slots.c.slot_id.in_(victims))
        )
        await conn.execute(delete(slots).where(slots.c.id.in_(victims)))
    return len(victims)
