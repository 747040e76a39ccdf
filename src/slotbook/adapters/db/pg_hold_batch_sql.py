"""The group commit's statement: every hold of a batch placed at once, each with its answer.

The requests come as arrays, unnested into `req` in arrival order. What one statement does
for them is what the lock statement (`pg_hold_lock.LOCK_SQL`) does for one, in this serial
order (docs/group-commit.md): first the requests refused by the slot as it was, then the
granted ones in arrival order, then those that lost their slot to an earlier request of
the batch. So:
- the first request for a slot (of a customer that exists) is its only candidate: the
  others are refused, and told the slot is now the winner's (`batch_results`);
- candidate slots are locked in slot-id order (the lock order of `locking.py` for several
  slots): two batches never wait for each other's slots in opposite orders;
- a supersede leaves alone a hold, and a slot, that a request of the batch has just taken
  over: the same row is never written twice in one statement;
- the caller never puts two requests of one customer in a batch (the one-active-hold-per-
  customer index would refuse the whole statement).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from slotbook.adapters.db import pg_hold_reads as reads
from slotbook.adapters.db.pg_hold_lock import lock_result
from slotbook.domain.ports import Inspection, LockRequest, LockResult
from slotbook.domain.states import SlotStatus

# $1 slots, $2 customers, $3 new hold ids, $4 nows, $5 the TTLs' expiries: one per request
BATCH_SQL = f"""
WITH req AS (
    SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::timestamptz[],
                         $5::timestamptz[])
           WITH ORDINALITY AS r(slot_id, customer_id, hold_id, now, expires_at, ord)
), candidate AS (
    SELECT DISTINCT ON (r.slot_id) r.*
      FROM req AS r
     WHERE EXISTS (SELECT 1 FROM users AS u WHERE u.id = r.customer_id)
     ORDER BY r.slot_id, r.ord
), locked AS (
    SELECT s.id FROM slots AS s
     WHERE s.id IN (SELECT slot_id FROM candidate)
     ORDER BY s.id
       FOR UPDATE
), granted AS (
    UPDATE slots
       SET status = 'held', hold_id = c.hold_id, held_until = LEAST(c.expires_at, slots.starts_at)
      FROM candidate AS c JOIN locked AS l ON l.id = c.slot_id
     WHERE slots.id = c.slot_id
       AND slots.starts_at > c.now
       AND (slots.status = 'available' OR (slots.status = 'held' AND slots.held_until <= c.now))
 RETURNING slots.id, slots.provider_id, slots.price_minor, slots.currency, slots.held_until,
           c.customer_id, c.hold_id, c.now
), taken_over AS (
    UPDATE holds
       SET status = 'released', release_reason = 'expired', released_at = g.now,
           active_slot_id = NULL, active_customer_id = NULL
      FROM granted AS g
     WHERE holds.active_slot_id = g.id AND holds.expires_at <= g.now
 RETURNING holds.id, g.now
), previous_slot AS (
    -- each previous hold's slot is locked before that hold (the lock order); a slot this
    -- batch grants is not the supersede's to free: its hold is taken over instead
    SELECT h.id AS hold_id, g.customer_id, g.now
      FROM holds AS h
      JOIN slots AS s ON s.id = h.slot_id
      JOIN granted AS g ON h.active_customer_id = g.customer_id
     WHERE h.slot_id NOT IN (SELECT id FROM granted)
     ORDER BY s.id
       FOR UPDATE OF s
), previous AS (
    UPDATE holds
       SET status = 'released',
           release_reason = CASE WHEN expires_at <= p.now THEN 'expired' ELSE 'superseded' END,
           released_at = GREATEST(p.now, holds.created_at), active_slot_id = NULL,
           active_customer_id = NULL
      FROM previous_slot AS p
     WHERE holds.id = p.hold_id AND holds.active_customer_id = p.customer_id
 RETURNING holds.id, holds.slot_id, p.now
), freed AS (
    UPDATE slots
       SET status = 'available', hold_id = NULL, held_until = NULL
      FROM previous
     WHERE slots.id = previous.slot_id AND slots.hold_id = previous.id
       AND slots.status = 'held'
), obliged AS (
    INSERT INTO outbox (id, kind, subject_id, due_at, attempts, created_at)
    SELECT gen_random_uuid(), 'cancel_hold_payments', r.id, r.now, 0, r.now
      FROM (SELECT id, now FROM taken_over UNION ALL SELECT id, now FROM previous) AS r
     WHERE EXISTS (SELECT 1 FROM payments AS p WHERE p.hold_id = r.id AND p.status = 'pending')
), inserted AS (
    INSERT INTO holds (id, slot_id, provider_id, customer_id, status, created_at, expires_at,
                       amount_minor, currency, active_slot_id, active_customer_id)
    SELECT g.hold_id, g.id, g.provider_id, g.customer_id, 'active', g.now, g.held_until,
           g.price_minor, g.currency, g.id, g.customer_id
      FROM granted AS g
      -- read for their order only, as in LOCK_SQL: the retired holds leave the unique
      -- active_ indexes before the new ones enter them
     CROSS JOIN (SELECT count(*) FROM taken_over) AS retired_on_slot
     CROSS JOIN (SELECT count(*) FROM previous) AS retired_of_customer
 RETURNING id, provider_id, amount_minor, currency, expires_at
)
SELECT i.provider_id AS granted_provider_id, i.amount_minor AS granted_amount_minor,
       i.currency AS granted_currency, i.expires_at AS granted_expires_at, refused.*
  FROM req AS r
  LEFT JOIN inserted AS i ON i.id = r.hold_id
  LEFT JOIN LATERAL (
        SELECT * FROM ({reads.inspect_sql("r.slot_id", "r.customer_id")}) AS seen
         WHERE i.provider_id IS NULL
        OFFSET 0
  ) AS refused ON true
 ORDER BY r.ord
"""  # noqa: S608 (built from constants only)


def batch_args(requests: Sequence[LockRequest]) -> tuple[list[Any], ...]:
    """The arrays of BATCH_SQL, in arrival order."""
    return (
        [r.slot_id for r in requests],
        [r.customer_id for r in requests],
        [r.hold_id for r in requests],
        [r.now for r in requests],
        [r.expires_at for r in requests],
    )


def batch_results(requests: Sequence[LockRequest], rows: Sequence[Any]) -> list[LockResult]:
    """Each request's answer from its row; a request that lost its slot to another of the
    batch is told the slot is the winner's, as a look after the statement would show."""
    results = [lock_result(r, row) for r, row in zip(requests, rows, strict=True)]
    winners = {res.hold.slot_id: res for res in results if res.hold is not None}
    return [
        _lost_to(res, winners[r.slot_id]) if res.hold is None and r.slot_id in winners else res
        for r, res in zip(requests, results, strict=True)
    ]


def _lost_to(refused: LockResult, winner: LockResult) -> LockResult:
    seen, hold = refused.seen, winner.hold
    if seen is None or seen.slot is None or hold is None:
        return refused
    slot = dataclasses.replace(
        seen.slot, status=SlotStatus.HELD, hold_id=hold.id, held_until=hold.expires_at
    )
    return LockResult(None, seen=Inspection(slot, hold, customer_known=seen.customer_known))
