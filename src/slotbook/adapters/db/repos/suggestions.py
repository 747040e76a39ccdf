"""Candidate alternatives for a refused hold, by indexed range scans with a LIMIT.

Four small scans, each walking an index from the target time outwards (before and after,
same provider and same category at other providers), so the cost does not grow with the
number of slots.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from slotbook.adapters.db.repos.catalog import bookable_at
from slotbook.adapters.db.tables import slots
from slotbook.domain.slots import Slot
from slotbook.domain.suggestions import Suggestion, SuggestionKind

_COLUMNS = (
    slots.c.id,
    slots.c.provider_id,
    slots.c.service_id,
    slots.c.starts_at,
    slots.c.ends_at,
    slots.c.price_minor,
    slots.c.currency,
)


async def candidates(
    conn: AsyncConnection, target: Slot, *, now: Any, limit: int
) -> list[Suggestion]:
    """Up to 4 x `limit` bookable slots around the target's start, each with its kind."""
    same = (slots.c.provider_id == target.provider_id, slots.c.id != target.id)
    other = (slots.c.category == target.category, slots.c.provider_id != target.provider_id)

    def scan(where: tuple[Any, ...], after: bool) -> Select[Any]:
        direction = (
            slots.c.starts_at >= target.starts_at
            if after
            else (slots.c.starts_at < target.starts_at)
        )
        order = slots.c.starts_at.asc() if after else slots.c.starts_at.desc()
        return (
            select(*_COLUMNS, (slots.c.provider_id == target.provider_id).label("same"))
            .where(*where, direction, bookable_at(now))
            .order_by(order)
            .limit(limit)
        )

    parts = [scan(w, after) for w in (same, other) for after in (True, False)]
    query = union_all(*(p.subquery().select() for p in parts))
    rows = await conn.execute(query)
    return [
        Suggestion(
            slot_id=r.id,
            provider_id=r.provider_id,
            service_id=r.service_id,
            starts_at=r.starts_at,
            ends_at=r.ends_at,
            price_minor=r.price_minor,
            currency=r.currency,
            kind=SuggestionKind.SAME_PROVIDER if r.same else SuggestionKind.OTHER_PROVIDER,
        )
        for r in rows
    ]
