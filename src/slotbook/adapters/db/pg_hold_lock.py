"""The hold store on PostgreSQL: the lock is one statement, one round trip, autocommit.

The statement grants the slot with a conditional UPDATE (the row lock serialises racers:
a loser re-reads the row, sees it held, and updates nothing), takes over an expired hold,
supersedes the customer's previous hold and frees its slot, and only then inserts the new
hold. The hold lasts until the slot starts if that comes before its TTL runs out. The
unique `active_` indexes still refuse two active holds on one slot or for one customer.
Rows are locked in the order of `locking.py`: each slot before its hold.

This path uses asyncpg directly: it is the request every popular slot sees hundreds of
times a second, and a raw prepared statement on a pool without per-release reset costs a
fraction of a general-purpose session.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from slotbook.adapters.db import pg_hold_reads as reads
from slotbook.adapters.db.connections import BoundedPool
from slotbook.domain.errors import AccountGone, DatabaseUnavailable, HoldContended
from slotbook.domain.holds import Hold
from slotbook.domain.ports import Inspection, LockRequest, LockResult
from slotbook.domain.slots import Slot
from slotbook.domain.states import HoldStatus
from slotbook.domain.suggestions import Suggestion

# $1 slot, $2 customer, $3 new hold id, $4 now, $5 the TTL's expiry
LOCK_SQL = f"""
WITH granted AS (
    UPDATE slots
       SET status = 'held', hold_id = $3, held_until = LEAST($5, starts_at)
     WHERE id = $1
       AND starts_at > $4
       AND (status = 'available' OR (status = 'held' AND held_until <= $4))
 RETURNING id, provider_id, price_minor, currency, held_until
), taken_over AS (
    UPDATE holds
       SET status = 'released', release_reason = 'expired', released_at = $4,
           active_slot_id = NULL, active_customer_id = NULL
     WHERE active_slot_id = $1 AND expires_at <= $4 AND EXISTS (SELECT 1 FROM granted)
 RETURNING id
), previous_slot AS (
    -- the slot of the customer's previous hold is locked before that hold (the lock order)
    SELECT h.id AS hold_id
      FROM holds AS h JOIN slots AS s ON s.id = h.slot_id
     WHERE h.active_customer_id = $2 AND h.slot_id <> $1 AND EXISTS (SELECT 1 FROM granted)
       FOR UPDATE OF s
), previous AS (
    UPDATE holds
       SET status = 'released',
           release_reason = CASE WHEN expires_at <= $4 THEN 'expired' ELSE 'superseded' END,
           -- never before the hold was made (another process's, made after $4 was read)
           released_at = GREATEST($4, holds.created_at), active_slot_id = NULL,
           active_customer_id = NULL
      FROM previous_slot
     WHERE holds.id = previous_slot.hold_id AND holds.active_customer_id = $2
 RETURNING holds.id, holds.slot_id
), freed AS (
    UPDATE slots
       SET status = 'available', hold_id = NULL, held_until = NULL
      FROM previous
     WHERE slots.id = previous.slot_id AND slots.hold_id = previous.id
       AND slots.status = 'held'
), obliged AS (
    -- a retired hold's pending payments are to be withdrawn at the gateway: the
    -- obligation is written in this same statement (the outbox), most often nothing
    INSERT INTO outbox (id, kind, subject_id, due_at, attempts, created_at)
    SELECT gen_random_uuid(), 'cancel_hold_payments', r.id, $4, 0, $4
      FROM (SELECT id FROM taken_over UNION ALL SELECT id FROM previous) AS r
     WHERE EXISTS (SELECT 1 FROM payments AS p WHERE p.hold_id = r.id AND p.status = 'pending')
), inserted AS (
    INSERT INTO holds (id, slot_id, provider_id, customer_id, status, created_at, expires_at,
                       amount_minor, currency, active_slot_id, active_customer_id)
    SELECT $3, g.id, g.provider_id, $2, 'active', $4, g.held_until, g.price_minor,
           g.currency, g.id, $2
      FROM granted AS g
      -- Read for their order only: PostgreSQL runs a WITH part when it is first read, and
      -- the holds retired above must leave the unique active_ indexes before this one
      -- enters them.
     CROSS JOIN (SELECT count(*) FROM taken_over) AS retired_on_slot
     CROSS JOIN (SELECT count(*) FROM previous) AS retired_of_customer
 RETURNING provider_id, amount_minor, currency, expires_at
)
SELECT i.provider_id AS granted_provider_id, i.amount_minor AS granted_amount_minor,
       i.currency AS granted_currency, i.expires_at AS granted_expires_at, refused.*
  FROM (SELECT 1) AS one
  LEFT JOIN inserted AS i ON true
  LEFT JOIN LATERAL (
        SELECT * FROM ({reads.inspect_sql("$1", "$2")}) AS seen
         WHERE i.provider_id IS NULL
        OFFSET 0  -- kept apart, so a granted attempt never runs these lookups
  ) AS refused ON true
"""  # noqa: S608 (built from constants only)

# A refused attempt also answers why, from the same statement: the slot, its holder and
# whether the customer exists, as the statement's snapshot saw them (the service re-reads
# in the rare case of a race). Two holds of one customer in two processes trip the
# one-active-hold-per-customer index, and two supersedes swapping slots may deadlock:
# both are retried from scratch, after a jittered pause, within a time budget.
_ONE_PER_CUSTOMER = "holds_one_customer"
_ONE_PER_SLOT = "holds_one_slot"
_CUSTOMER_KEY = "holds_customer_id_fkey"
_RETRY_BUDGET_SECONDS = 0.5
_FIRST_PAUSE_SECONDS = 0.002
_LONGEST_PAUSE_SECONDS = 0.05


class PgHoldStore:
    def __init__(self, pool: BoundedPool) -> None:
        self._pool = pool

    async def close(self) -> None:
        await self._pool.close()

    async def inspect(self, slot_id: UUID, customer_id: UUID) -> Inspection:
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow(reads.INSPECT_SQL, slot_id, customer_id)
        return reads.inspection(row)

    async def alternatives(self, target: Slot, *, now: datetime, limit: int) -> list[Suggestion]:
        args = reads.alternatives_args(target, now, limit)
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(reads.ALTERNATIVES_SQL, *args)
        return [reads.suggestion(r) for r in rows]

    async def try_lock(self, request: LockRequest) -> LockResult:
        r = request
        row = await self._lock(lock_args(r))
        return LockResult(None) if row is None else lock_result(r, row)

    async def _lock(self, args: tuple[Any, ...]) -> Any:
        """The lock statement's row, retried while the customer's holds cross; None when
        the slot turned out held by a hold its row did not show."""
        pauses = _pauses()
        reconnected = False
        while True:
            try:
                async with self._pool.acquire() as conn:
                    return await conn.fetchrow(LOCK_SQL, *args)
            except DatabaseUnavailable:
                # a pooled connection the server had just closed: once more, on a new one
                # (the attempt may have committed; the new one then finds its own hold)
                if reconnected:
                    raise
                reconnected = True
                continue
            except asyncpg.UniqueViolationError as exc:
                if exc.constraint_name == _ONE_PER_SLOT:
                    return None
                if exc.constraint_name != _ONE_PER_CUSTOMER:
                    raise
            except asyncpg.DeadlockDetectedError:
                pass
            except asyncpg.ForeignKeyViolationError as exc:
                if exc.constraint_name != _CUSTOMER_KEY:
                    raise
                raise AccountGone("the account no longer exists") from None
            pause = next(pauses)
            if pause is None:
                raise HoldContended("holds placed at the same moment kept crossing; retry")
            await asyncio.sleep(pause)


def lock_args(r: LockRequest) -> tuple[Any, ...]:
    """The parameters of LOCK_SQL for one request."""
    return (r.slot_id, r.customer_id, r.hold_id, r.now, r.expires_at)


def lock_result(r: LockRequest, row: Any) -> LockResult:
    """The answer to `r` from its row of the lock statement (or of the batch statement)."""
    if row["granted_provider_id"] is None:
        seen = reads.inspection(row)
        if seen.holder is not None and seen.holder.id == r.hold_id:
            # an attempt whose answer was lost with its connection did take the slot
            return LockResult(seen.holder)
        return LockResult(None, seen=seen)
    return LockResult(
        Hold(
            id=r.hold_id,
            slot_id=r.slot_id,
            provider_id=row["granted_provider_id"],
            customer_id=r.customer_id,
            status=HoldStatus.ACTIVE,
            release_reason=None,
            created_at=r.now,
            expires_at=row["granted_expires_at"],
            amount_minor=row["granted_amount_minor"],
            currency=row["granted_currency"],
        )
    )


def _pauses() -> Iterator[float | None]:
    """Jittered pauses, growing, until the budget (counted from the first clash) is spent;
    then None."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + _RETRY_BUDGET_SECONDS
    for attempt in itertools.count():
        longest = min(_LONGEST_PAUSE_SECONDS, _FIRST_PAUSE_SECONDS * 2 ** min(attempt, 5))
        pause = random.uniform(0, longest)
        yield pause if loop.time() + pause <= deadline else None
