"""The hold store on PostgreSQL: the lock is one statement, one round trip, autocommit.

The statement grants the slot with a conditional UPDATE (the row lock serialises racers:
a loser re-reads the row, sees it held, and updates nothing), takes over an expired hold,
supersedes the customer's previous hold and frees its slot, and only then inserts the new
hold: the INSERT waits on the row counts of the other parts, so the retired holds have
left the unique `active_` indexes before the new one enters them. Those indexes still
refuse two active holds on one slot or for one customer.

This path uses asyncpg directly: it is the request every popular slot sees hundreds of
times a second, and a raw prepared statement on a pool without per-release reset costs a
fraction of a general-purpose session.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from slotbook.adapters.db import pg_hold_reads as reads
from slotbook.adapters.db.failures import translate_unavailable
from slotbook.domain.holds import Hold
from slotbook.domain.ports import LockRequest, LockResult
from slotbook.domain.slots import Slot
from slotbook.domain.states import HoldStatus
from slotbook.domain.suggestions import Suggestion

LOCK_SQL = f"""
WITH granted AS (
    UPDATE slots
       SET status = 'held', hold_id = $3, held_until = $5
     WHERE id = $1
       AND starts_at > $4
       AND (status = 'available' OR (status = 'held' AND held_until <= $4))
 RETURNING id, provider_id, price_minor, currency
), taken_over AS (
    UPDATE holds
       SET status = 'released', release_reason = 'expired', released_at = $4,
           active_slot_id = NULL, active_customer_id = NULL
     WHERE active_slot_id = $1 AND expires_at <= $4 AND EXISTS (SELECT 1 FROM granted)
 RETURNING id
), previous AS (
    UPDATE holds
       SET status = 'released',
           release_reason = CASE WHEN expires_at <= $4 THEN 'expired' ELSE 'superseded' END,
           released_at = $4, active_slot_id = NULL, active_customer_id = NULL
     WHERE active_customer_id = $2 AND slot_id <> $1 AND EXISTS (SELECT 1 FROM granted)
 RETURNING id, slot_id
), freed AS (
    UPDATE slots
       SET status = 'available', hold_id = NULL, held_until = NULL
      FROM previous
     WHERE slots.id = previous.slot_id AND slots.hold_id = previous.id
       AND slots.status = 'held'
 RETURNING slots.id
), inserted AS (
    INSERT INTO holds (id, slot_id, provider_id, customer_id, status, created_at, expires_at,
                       amount_minor, currency, active_slot_id, active_customer_id)
    SELECT $3, id, provider_id, $2, 'active', $4, $5, price_minor, currency, id, $2
      FROM granted
     WHERE (SELECT count(*) FROM taken_over) >= 0 AND (SELECT count(*) FROM freed) >= 0
 RETURNING provider_id, amount_minor, currency
)
SELECT i.provider_id, i.amount_minor, i.currency, refused.*
  FROM (SELECT 1) AS one
  LEFT JOIN inserted AS i ON true
  LEFT JOIN LATERAL (
        SELECT {reads.INSPECT_COLUMNS}
          FROM slots AS s LEFT JOIN holds AS h ON h.active_slot_id = s.id
         WHERE s.id = $1 AND i.provider_id IS NULL
        OFFSET 0  -- kept apart, so a granted attempt never runs these lookups
  ) AS refused ON true
"""  # noqa: S608 (built from constants only)

# A refused attempt also answers why, from the same statement: the slot and its holder as
# the statement's snapshot saw them (the service re-reads in the rare case of a race).
# Racing holds of one customer trip the one-active-hold-per-customer index, and a
# supersede crossing a takeover may deadlock; both are safe to retry from scratch.
_RETRYABLE = (asyncpg.UniqueViolationError, asyncpg.DeadlockDetectedError)
_ATTEMPTS = 3


async def _keep_session(_conn: Any) -> None:
    """The hold path changes no session state, so a returned connection needs no reset."""


async def create_hold_pool(
    dsn: str, *, size: int, connect_timeout: float, command_timeout: float
) -> Any:
    """The asyncpg pool of the hold path: prepared statements, no per-release reset.

    It opens connections on demand, so the service starts (and answers 503) while the
    database is down.
    """
    async with translate_unavailable():
        return await asyncpg.create_pool(
            dsn,
            min_size=0,
            max_size=size,
            max_inactive_connection_lifetime=0,
            timeout=connect_timeout,
            command_timeout=command_timeout,
            reset=_keep_session,
            server_settings={"jit": "off"},
        )


class PgHoldStore:
    def __init__(self, pool: Any, *, acquire_timeout: float) -> None:
        self._pool = pool
        self._acquire_timeout = acquire_timeout

    async def close(self) -> None:
        await self._pool.close()

    async def inspect(self, slot_id: UUID) -> tuple[Slot | None, Hold | None]:
        async with (
            translate_unavailable(),
            self._pool.acquire(timeout=self._acquire_timeout) as conn,
        ):
            row = await conn.fetchrow(reads.INSPECT_SQL, slot_id)
        return reads.slot_and_hold(row) if row else (None, None)

    async def alternatives(self, target: Slot, *, now: datetime, limit: int) -> list[Suggestion]:
        args = reads.alternatives_args(target, now, limit)
        async with (
            translate_unavailable(),
            self._pool.acquire(timeout=self._acquire_timeout) as conn,
        ):
            rows = await conn.fetch(reads.ALTERNATIVES_SQL, *args)
        return [reads.suggestion(r) for r in rows]

    async def try_lock(self, request: LockRequest) -> LockResult:
        r = request
        args = (r.slot_id, r.customer_id, r.hold_id, r.now, r.expires_at)
        async with translate_unavailable():
            for attempt in range(1, _ATTEMPTS + 1):
                try:
                    async with self._pool.acquire(timeout=self._acquire_timeout) as conn:
                        row = await conn.fetchrow(LOCK_SQL, *args)
                    break
                except _RETRYABLE:
                    if attempt == _ATTEMPTS:
                        return LockResult(None)
        if row[0] is None:
            found = tuple(row)[3:]
            slot, holder = reads.slot_and_hold(found) if found[0] else (None, None)
            return LockResult(None, inspected=True, slot=slot, holder=holder)
        return LockResult(
            Hold(
                id=r.hold_id,
                slot_id=r.slot_id,
                provider_id=row[0],
                customer_id=r.customer_id,
                status=HoldStatus.ACTIVE,
                release_reason=None,
                created_at=r.now,
                expires_at=r.expires_at,
                amount_minor=row[1],
                currency=row[2],
            )
        )
