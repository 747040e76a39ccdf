"""The reads a refused hold needs on PostgreSQL, as raw prepared statements.

A popular slot refuses hundreds of customers a second, and each refusal must say why and
offer alternatives; two small indexed statements on the hold path's own pool keep that
answer nearly as cheap as the lock. Rows are decoded by column name.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slotbook.domain.holds import Hold
from slotbook.domain.ports import Inspection
from slotbook.domain.slots import Slot
from slotbook.domain.states import HoldStatus, SlotStatus
from slotbook.domain.suggestions import Suggestion, SuggestionKind


def inspect_sql(slot_param: str, customer_param: str) -> str:
    """The slot, its active hold and whether the customer exists, as one row (the slot's
    columns NULL when there is no such slot); built from constants only."""
    return f"""
SELECT EXISTS (SELECT 1 FROM users WHERE users.id = {customer_param}) AS customer_known,
       seen.*
  FROM (SELECT 1) AS one
  LEFT JOIN (
        SELECT s.id AS slot_id, s.provider_id, s.service_id, s.category, s.starts_at,
               s.ends_at, s.price_minor, s.currency, s.status, s.held_until,
               s.hold_id AS slot_hold_id,
               h.id AS holder_id, h.customer_id AS holder_customer_id,
               h.created_at AS holder_created_at, h.expires_at AS holder_expires_at,
               h.amount_minor AS holder_amount_minor, h.currency AS holder_currency
          FROM slots AS s LEFT JOIN holds AS h ON h.active_slot_id = s.id
         WHERE s.id = {slot_param}
  ) AS seen ON true"""  # noqa: S608


INSPECT_SQL = inspect_sql("$1", "$2")

_FREE = (
    "starts_at > $5 AND status IN ('available', 'held')"
    " AND (status = 'available' OR held_until <= $5)"
)
_COLUMNS = "id, provider_id, service_id, starts_at, ends_at, price_minor, currency"


def _scan(where: str, after: bool, same: bool) -> str:
    """One index walk from the target's start outwards (built from constants only)."""
    side, order = (">=", "ASC") if after else ("<", "DESC")
    return (
        f"(SELECT {_COLUMNS}, {'true' if same else 'false'} AS same_provider"  # noqa: S608
        f" FROM slots WHERE {where} AND starts_at {side} $3 AND {_FREE}"
        f" ORDER BY starts_at {order} LIMIT $6)"
    )


_SCANS = " UNION ALL ".join(
    _scan(where, after, same)
    for where, same in (
        ("provider_id = $1 AND id <> $2", True),
        ("category = $4 AND provider_id <> $1", False),
    )
    for after in (True, False)
)
# $1 provider, $2 target slot, $3 target start, $4 category, $5 now, $6 limit. The four
# walks are disjoint; of their rows only the `$6` first in `rank_suggestions`' order (the
# domain's rule, applied again to what comes back) leave the database.
ALTERNATIVES_SQL = (
    f"SELECT * FROM ({_SCANS}) AS c"  # noqa: S608 (built from constants only)
    " ORDER BY abs(extract(epoch FROM c.starts_at - $3)), NOT c.same_provider, c.starts_at,"
    " c.id::text LIMIT $6"
)


def inspection(row: Any) -> Inspection:
    """An inspection from a row of `inspect_sql`'s columns."""
    if row["slot_id"] is None:
        return Inspection(None, None, customer_known=row["customer_known"])
    slot = Slot(
        id=row["slot_id"],
        provider_id=row["provider_id"],
        service_id=row["service_id"],
        category=row["category"],
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        price_minor=row["price_minor"],
        currency=row["currency"],
        status=SlotStatus(row["status"]),
        held_until=row["held_until"],
        hold_id=row["slot_hold_id"],
    )
    holder = None
    if row["holder_id"] is not None:
        holder = Hold(
            id=row["holder_id"],
            slot_id=slot.id,
            provider_id=slot.provider_id,
            customer_id=row["holder_customer_id"],
            status=HoldStatus.ACTIVE,
            release_reason=None,
            created_at=row["holder_created_at"],
            expires_at=row["holder_expires_at"],
            amount_minor=row["holder_amount_minor"],
            currency=row["holder_currency"],
        )
    return Inspection(slot, holder, customer_known=row["customer_known"])


def alternatives_args(target: Slot, now: datetime, limit: int) -> tuple[Any, ...]:
    return (target.provider_id, target.id, target.starts_at, target.category, now, limit)


def suggestion(row: Any) -> Suggestion:
    return Suggestion(
        slot_id=row["id"],
        provider_id=row["provider_id"],
        service_id=row["service_id"],
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        price_minor=row["price_minor"],
        currency=row["currency"],
        kind=SuggestionKind.SAME_PROVIDER
        if row["same_provider"]
        else SuggestionKind.OTHER_PROVIDER,
    )
