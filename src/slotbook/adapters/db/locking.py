"""The lock order. Every writer locks rows in this order, and only in this order:

    slot ──▶ hold ──▶ payment ──▶ booking ──▶ ledger

A transaction that will change a hold first locks that hold's slot, even when it will not
change the slot; one that will change a payment first locks its slot and hold; and so on
down the line. Two writers that take the same rows in opposite orders deadlock under
load: PostgreSQL notices after `deadlock_timeout` (1 s), aborts one of them, and that
request stalls and then fails or is retried. Rows already locked may be changed in any
order. On SQLite a write transaction has the database to itself (BEGIN IMMEDIATE), so
nothing waits there; the writers keep the order anyway, so one code path serves both.

How each writer keeps it (each links back here):
- the lock statement (`pg_hold_lock.LOCK_SQL`; `hold_lock.lock_in` on SQLite): the slot it
  grants, then the expired hold on it that it takes over; for a supersede, the slot of
  the customer's previous hold, then that hold.
- cancel (`repos.hold_writes.lock_for_release`, then `release_hold`): the hold's slot, then
  the hold, read again once its slot is locked, because until then anyone could move it.
- the sweeper (`repos.hold_writes.release_expired`): the slots of the due holds, then the
  holds, both with SKIP LOCKED.
- payments (`service_layer/payments.py`, `payment_outcomes.py` with `confirmation.py`,
  `obligations.py`): the hold's slot and the hold (`lock_slot_and_hold`), then the
  payment (`FOR UPDATE`), then what the outcome writes: the booking, the refund, the
  ledger. A success webhook on PostgreSQL's raw pool (`pg_success.py`) takes the same
  order: the payment's slot (in the statement that records the event), then hold and
  payment (`HOLD_AND_PAYMENT`), then the confirming statement.
- bookings (`service_layer/bookings.py`): the slot and the hold, then the booking, then its
  payment and the ledger.

Provider-wide writers come before all of it: the provider's row (`catalog.lock_provider`),
then its availability row, then slots. Adding slots by hand waits for the provider's lock;
materialising availability (`service_layer/availability.py`) takes it with SKIP LOCKED,
then locks the free slots it closes, reopens or deletes in id order with SKIP LOCKED too
(`repos.availability`): it never waits for the hot path, and what it skips, it retries a
minute later.

Why the sweeper skips locked rows instead of waiting: nobody waits for the sweeper, and a
locked slot or hold is being changed by someone who either does the sweeper's work itself
(the lock statement takes an expired hold over, cancel releases it) or makes it moot (a
payment confirms it). Waiting would put a background tidier in the hot path's lock queues
and, with any number of sweepers, in each other's; skipping means a sweeper never waits
and never deadlocks, and whatever it skips, the next pass gets.

Several rows of one kind: a supersede holds the new slot when it locks the previous
hold's slot, so two customers swapping two expired slots at the same moment can still
cross; PostgreSQL detects it and the lock statement retries whole. A new writer that
needs several slots (or holds, ...) locks them in id order.
"""

from __future__ import annotations

from typing import Any, Final
from uuid import UUID

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from slotbook.adapters.db.payment_tables import payments
from slotbook.adapters.db.repos.catalog import slot_from_row
from slotbook.adapters.db.repos.holds import HOLD_COLUMNS, HOLD_FROM, hold_from_row
from slotbook.adapters.db.repos.payments import payment_from_values
from slotbook.adapters.db.tables import holds, slots
from slotbook.domain.holds import Hold
from slotbook.domain.payments import Payment
from slotbook.domain.slots import Slot

LOCK_ORDER: Final = ("slots", "holds", "payments", "bookings", "ledger")


async def lock_slot(conn: AsyncConnection, slot_id: UUID) -> bool:
    """Lock the slot's row until the transaction ends (the first step of the order);
    False if there is no such slot."""
    locked = await conn.scalar(select(slots.c.id).where(slots.c.id == slot_id).with_for_update())
    return locked is not None


async def lock_hold(conn: AsyncConnection, hold_id: UUID) -> Hold | None:
    """Lock the hold's row (its slot locked first) and read it as it is now."""
    row = (
        await conn.execute(
            select(*HOLD_COLUMNS)
            .select_from(HOLD_FROM)
            .where(holds.c.id == hold_id)
            .with_for_update(of=holds)
        )
    ).one_or_none()
    return hold_from_row(row) if row else None


async def lock_slot_and_hold(conn: AsyncConnection, hold_id: UUID) -> tuple[Slot, Hold] | None:
    """The hold's slot, then the hold, locked in the order; both as they are now.

    The hold's slot is looked up first, unlocked: a hold never changes slot, so the slot
    found is the right one to lock first."""
    slot_id = await conn.scalar(select(holds.c.slot_id).where(holds.c.id == hold_id))
    return await _lock_pair(conn, slot_id, hold_id) if slot_id is not None else None


_PAYMENT_COLUMNS = tuple(c.label(f"payment_{c.name}") for c in payments.c)


_PAYMENT_ID = bindparam("payment_id", type_=payments.c.id.type)
# built once: a statement's construction costs more Python than its execution
_SLOT_OF_PAYMENT = (
    select(slots)
    .where(
        slots.c.id
        == (
            select(holds.c.slot_id)
            .select_from(payments.join(holds, holds.c.id == payments.c.hold_id))
            .where(payments.c.id == _PAYMENT_ID)
            .scalar_subquery()
        )
    )
    .with_for_update()
)
HOLD_AND_PAYMENT = (
    select(*HOLD_COLUMNS, *_PAYMENT_COLUMNS)
    .select_from(HOLD_FROM.join(payments, payments.c.hold_id == holds.c.id))
    .where(payments.c.id == _PAYMENT_ID)
    .with_for_update(of=(holds, payments))
)


async def lock_for_payment(
    conn: AsyncConnection, payment_id: UUID
) -> tuple[Slot, Hold, Payment] | None:
    """The payment's slot, then its hold and the payment, locked in the order; all three
    as they are now (None if there is no such payment). Two statements: the slot first,
    found through the payment; then hold and payment together, which cannot cross any
    other writer's locks, since every writer of them holds their slot first."""
    params = {"payment_id": payment_id}
    slot_row = (await conn.execute(_SLOT_OF_PAYMENT, params)).one_or_none()
    if slot_row is None:
        return None
    row = (await conn.execute(HOLD_AND_PAYMENT, params)).one_or_none()
    if row is None:
        return None
    return slot_from_row(slot_row), *hold_and_payment_from_row(row)


def hold_and_payment_from_row(row: Any) -> tuple[Hold, Payment]:
    """The hold and the payment from a row of HOLD_AND_PAYMENT (attributes by name)."""
    paid = {c.name: getattr(row, f"payment_{c.name}") for c in payments.c}
    return hold_from_row(row), payment_from_values(paid)


async def _lock_pair(
    conn: AsyncConnection, slot_id: UUID, hold_id: UUID
) -> tuple[Slot, Hold] | None:
    slot_row = (
        await conn.execute(select(slots).where(slots.c.id == slot_id).with_for_update())
    ).one_or_none()
    hold = await lock_hold(conn, hold_id)
    if slot_row is None or hold is None:
        return None
    return slot_from_row(slot_row), hold
