"""The reads a refused hold needs on PostgreSQL, as raw prepared statements.

A popular slot refuses hundreds of customers a second, and each refusal must say why and
offer alternatives; two small indexed statements on the hold path's own pool keep that
answer nearly as cheap as the lock.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slotbook.domain.holds import Hold
from slotbook.domain.slots import Slot
from slotbook.domain.states import HoldStatus, SlotStatus
from slotbook.domain.suggestions import Suggestion, SuggestionKind

INSPECT_COLUMNS = """s.id, s.provider_id, s.service_id, s.category, s.starts_at, s.ends_at,
       s.price_minor, s.currency, s.status, s.held_until, s.hold_id,
       h.id, h.customer_id, h.created_at, h.expires_at, h.amount_minor, h.currency"""
INSPECT_SQL = f"""
SELECT {INSPECT_COLUMNS}
  FROM slots AS s LEFT JOIN holds AS h ON h.active_slot_id = s.id
 WHERE s.id = $1
"""  # noqa: S608 (constants only)

_FREE = (
    "starts_at > $5 AND status IN ('available', 'held')"
    " AND (status = 'available' OR held_until <= $5)"
)
_COLUMNS = "id, provider_id, service_id, starts_at, ends_at, price_minor, currency"


def _scan(where: str, after: bool, same: bool) -> str:
    """One index walk from the target's start outwards (built from constants only)."""
    side, order = (">=", "ASC") if after else ("<", "DESC")
    return (
        f"(SELECT {_COLUMNS}, {'true' if same else 'false'} FROM slots"  # noqa: S608
        f" WHERE {where} AND starts_at {side} $3 AND {_FREE}"
        f" ORDER BY starts_at {order} LIMIT $6)"
    )


# $1 provider, $2 target slot, $3 target start, $4 category, $5 now, $6 limit per scan
ALTERNATIVES_SQL = " UNION ALL ".join(
    _scan(where, after, same)
    for where, same in (
        ("provider_id = $1 AND id <> $2", True),
        ("category = $4 AND provider_id <> $1", False),
    )
    for after in (True, False)
)


def slot_and_hold(row: Any) -> tuple[Slot, Hold | None]:
    slot = Slot(
        id=row[0],
        provider_id=row[1],
        service_id=row[2],
        category=row[3],
        starts_at=row[4],
        ends_at=row[5],
        price_minor=row[6],
        currency=row[7],
        status=SlotStatus(row[8]),
        held_until=row[9],
        hold_id=row[10],
    )
    if row[11] is None:
        return slot, None
    hold = Hold(
        id=row[11],
        slot_id=slot.id,
        provider_id=slot.provider_id,
        customer_id=row[12],
        status=HoldStatus.ACTIVE,
        release_reason=None,
        created_at=row[13],
        expires_at=row[14],
        amount_minor=row[15],
        currency=row[16],
    )
    return slot, hold


def alternatives_args(target: Slot, now: datetime, limit: int) -> tuple[Any, ...]:
    return (target.provider_id, target.id, target.starts_at, target.category, now, limit)


def suggestion(row: Any) -> Suggestion:
    return Suggestion(
        slot_id=row[0],
        provider_id=row[1],
        service_id=row[2],
        starts_at=row[3],
        ends_at=row[4],
        price_minor=row[5],
        currency=row[6],
        kind=SuggestionKind.SAME_PROVIDER if row[7] else SuggestionKind.OTHER_PROVIDER,
    )
