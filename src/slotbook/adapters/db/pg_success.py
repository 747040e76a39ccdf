"""PostgreSQL: a gateway's success webhook settled on the raw pool, in three statements.

A success webhook is, nearly always, a payment found by the gateway's id whose hold is
still live and owns its slot. That case runs here as one transaction on an asyncpg
connection of the hot path's pool, each statement built once with SQLAlchemy (the very
statements of the general path, compiled for asyncpg by raw_sql.py) and none paying a
session's cost:

1. the event recorded (unique on gateway + event id) and the payment's slot locked,
   found through the gateway's payment id: one round trip, the first step of the lock
   order (locking.py); a hold never changes slot, so the unlocked hold read to find it
   is the right one;
2. the hold and the payment locked and read (locking.HOLD_AND_PAYMENT);
3. the caller decides the fate from those rows (the domain's rule); a confirmation is
   pg_confirm's one statement.

The caller commits only what it settled (`keep`); anything else rolls back, and the
general path (service_layer/payment_outcomes.py), which handles every case on either
database, starts over.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, func, select

from slotbook.adapters.db import locking, pg_confirm
from slotbook.adapters.db.connections import BoundedPool
from slotbook.adapters.db.payment_tables import payments
from slotbook.adapters.db.raw_sql import RawStatement, Row, compile_raw
from slotbook.adapters.db.repos.catalog import slot_from_row
from slotbook.adapters.db.repos.webhook_events import RECORDED, event_values
from slotbook.adapters.db.tables import holds, slots
from slotbook.domain.gateway import GatewayEvent
from slotbook.domain.holds import Hold
from slotbook.domain.payments import Payment
from slotbook.domain.slots import Slot
from slotbook.domain.states import PaymentStatus

_RECORD_AND_LOCK_SLOT = compile_raw(
    select(
        select(func.count()).select_from(RECORDED).scalar_subquery().label("fresh"),
        payments.c.id.label("payment_id"),
        *slots.c,
    )
    .select_from(
        payments.join(holds, holds.c.id == payments.c.hold_id).join(
            slots, slots.c.id == holds.c.slot_id
        )
    )
    .where(
        payments.c.gateway == bindparam("gateway"),
        payments.c.gateway_payment_id == bindparam("gateway_payment_id"),
    )
    .with_for_update(of=slots)
)
_HOLD_AND_PAYMENT = compile_raw(locking.HOLD_AND_PAYMENT)
_CONFIRM = compile_raw(pg_confirm.CONFIRM)


class SuccessTxn:
    """One success's transaction: its steps, and whether to keep what they wrote."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self.kept = False

    def keep(self) -> None:
        """Commit when the transaction ends (without this, it rolls back)."""
        self.kept = True

    async def record_and_lock_slot(
        self, gateway: str, event: GatewayEvent, *, now: datetime
    ) -> tuple[bool, UUID, Slot] | None:
        """Record the event and lock its payment's slot: (whether the event is new, the
        payment's id, the slot), or None when no payment of `gateway` has the event's
        gateway payment id."""
        params = event_values(gateway, event, now)
        row = await self._fetchrow(_RECORD_AND_LOCK_SLOT, params)
        if row is None:
            return None
        return row["fresh"] == 1, row["payment_id"], slot_from_row(row)

    async def lock_hold_and_payment(self, payment_id: UUID) -> tuple[Hold, Payment] | None:
        """The payment's hold and the payment, locked (their slot is locked already)."""
        row = await self._fetchrow(_HOLD_AND_PAYMENT, {"payment_id": payment_id})
        return locking.hold_and_payment_from_row(row) if row is not None else None

    async def confirm(self, confirming: pg_confirm.Confirming) -> Payment:
        """pg_confirm's one statement; the payment as moved to succeeded."""
        moved = confirming.payment.moved(PaymentStatus.SUCCEEDED)  # IllegalTransition first
        row = await self._fetchrow(_CONFIRM, pg_confirm.confirm_params(confirming))
        assert row is not None
        pg_confirm.check_written(row)
        return moved

    async def _fetchrow(self, statement: RawStatement, params: dict[str, Any]) -> Any:
        return await self._conn.fetchrow(statement.sql, *statement.args(params), record_class=Row)


@asynccontextmanager
async def transaction(pool: BoundedPool) -> AsyncIterator[SuccessTxn]:
    """A transaction on a connection of `pool`: committed if kept, else rolled back (and
    on any error); database outages answer as the pool translates them."""
    async with pool.acquire() as conn:
        txn = SuccessTxn(conn)
        started = conn.transaction()
        await started.start()
        try:
            yield txn
        except BaseException:
            try:
                await started.rollback()
            except Exception:
                conn.terminate()  # never back in the pool inside a transaction
            raise
        if txn.kept:
            await started.commit()
        else:
            await started.rollback()
