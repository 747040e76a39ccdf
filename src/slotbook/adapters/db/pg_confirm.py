"""PostgreSQL: a paid hold confirmed in ONE statement, once its rows are locked.

The confirming transaction's writes (service_layer/confirmation.py) are seven round
trips one by one: the payment marked succeeded (and its watchers told), the hold
confirmed, the slot booked, the booking, the escrow's ledger transaction and entries, and
the hold's other pending payments withdrawn with their outbox obligations. Here they are
data-modifying CTEs of one statement, built once with bind parameters. It runs after
slot, hold and payment are locked in the lock order (`locking.lock_for_payment` here, or
a success webhook's own steps on the raw pool in pg_success.py, which runs the same
statement compiled for asyncpg with the same parameters and checks); the only
rows it locks besides are the hold's other payments, the last step of that order, as the
one-by-one path does. Every write is conditional on the state read under the locks, and
the statement answers how many rows each step wrote: anything but the expected counts
raises IllegalTransition, which rolls the whole transaction back. Foreign keys and the
state-machine triggers check each row as for separate statements; the ledger's balance
is checked at commit. SQLite keeps the one-by-one path (confirmation.py); the
differential test (tests/integration/test_pg_confirm.py) holds both to the same rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, bindparam, cast, func, insert, literal, select, union_all, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from slotbook.adapters.db.payment_tables import ledger_entries, ledger_transactions, outbox
from slotbook.adapters.db.payment_tables import payments as pay
from slotbook.adapters.db.repos.outbox import TaskKind
from slotbook.adapters.db.tables import bookings, holds, slots
from slotbook.adapters.payment_watch import CHANNEL as WATCH_CHANNEL
from slotbook.domain.bookings import Booking
from slotbook.domain.errors import IllegalTransition
from slotbook.domain.ledger import Transaction
from slotbook.domain.payments import Payment
from slotbook.domain.states import BookingStatus, HoldStatus, PaymentStatus, SlotStatus

ENTRIES = 2  # capture_to_escrow: gateway receipts, the booking's escrow


def _p(name: str, column: Any) -> Any:
    return bindparam(f"c_{name}", type_=column.type)


_NOW = _p("now", pay.c.settled_at)
_PAYMENT = _p("payment_id", pay.c.id)
_HOLD = _p("hold_id", holds.c.id)
_BOOKING = _p("booking_id", bookings.c.id)
_TOLD = func.pg_notify(WATCH_CHANNEL, cast(pay.c.id, String)).label("told")

_paid = (
    update(pay)
    .where(pay.c.id == _PAYMENT, pay.c.status == _p("old_status", pay.c.status))
    .values(
        status=PaymentStatus.SUCCEEDED,
        settled_at=_NOW,
        gateway_payment_id=func.coalesce(
            pay.c.gateway_payment_id, _p("gateway_payment_id", pay.c.gateway_payment_id)
        ),
    )
    .returning(pay.c.id, _TOLD)
    .cte("paid")
)
_confirmed = (
    update(holds)
    .where(holds.c.id == _HOLD, holds.c.status == HoldStatus.ACTIVE)
    .values(status=HoldStatus.CONFIRMED, active_slot_id=None, active_customer_id=None)
    .returning(holds.c.id)
    .cte("confirmed")
)
_booked = (
    update(slots)
    .where(
        slots.c.id == _p("slot_id", slots.c.id),
        slots.c.hold_id == _HOLD,
        slots.c.status == SlotStatus.HELD,
    )
    .values(status=SlotStatus.BOOKED, held_until=None)
    .returning(slots.c.id)
    .cte("booked")
)
_booking = (
    insert(bookings)
    .values(
        id=_BOOKING,
        hold_id=_HOLD,
        slot_id=_p("slot_id", slots.c.id),
        provider_id=_p("provider_id", bookings.c.provider_id),
        customer_id=_p("customer_id", bookings.c.customer_id),
        payment_id=_PAYMENT,
        status=BookingStatus.CONFIRMED,
        amount_minor=_p("amount_minor", bookings.c.amount_minor),
        currency=_p("currency", bookings.c.currency),
        confirmed_at=_NOW,
    )
    .returning(bookings.c.id)
    .cte("booking")
)
_txn = (
    insert(ledger_transactions)
    .values(
        id=_p("txn_id", ledger_transactions.c.id),
        kind=_p("txn_kind", ledger_transactions.c.kind),
        payment_id=_PAYMENT,
        booking_id=_BOOKING,
        created_at=_NOW,
    )
    .returning(ledger_transactions.c.id)
    .cte("txn")
)
_ENTRY_COLUMNS = ("id", "transaction_id", "account", "amount_minor", "currency", "booking_id")
_entries = (
    insert(ledger_entries)
    .from_select(  # a multi-row VALUES would be compiled again at every execution
        [*_ENTRY_COLUMNS, "provider_id"],
        union_all(
            *(
                select(
                    _p(f"e{i}_id", ledger_entries.c.id),
                    _p("txn_id", ledger_transactions.c.id),
                    _p(f"e{i}_account", ledger_entries.c.account),
                    _p(f"e{i}_amount", ledger_entries.c.amount_minor),
                    _p(f"e{i}_currency", ledger_entries.c.currency),
                    _p(f"e{i}_booking_id", ledger_entries.c.booking_id),
                    _p(f"e{i}_provider_id", ledger_entries.c.provider_id),
                )
                for i in range(ENTRIES)
            )
        ),
    )
    .returning(ledger_entries.c.id)
    .cte("entries")
)
_withdrawn = (
    update(pay)
    .where(pay.c.hold_id == _HOLD, pay.c.status == PaymentStatus.PENDING, pay.c.id != _PAYMENT)
    .values(status=PaymentStatus.CANCELLED, settled_at=_NOW)
    .returning(pay.c.id, _TOLD)
    .cte("withdrawn")
)
_obliged = (
    insert(outbox)
    .from_select(
        ["id", "kind", "subject_id", "due_at", "attempts", "created_at"],
        select(
            func.gen_random_uuid(),
            literal(TaskKind.CANCEL_PAYMENT.value, outbox.c.kind.type),
            _withdrawn.c.id,
            _NOW,
            literal(0),
            _NOW,
        ),
    )
    .returning(outbox.c.id)
    .cte("obliged")
)


def _count(cte: Any) -> Any:
    return select(func.count()).select_from(cte).scalar_subquery()


CONFIRM = select(
    _count(_paid).label("paid"),
    _count(_confirmed).label("confirmed"),
    _count(_booked).label("booked"),
    _count(_booking).label("booking"),
    _count(_txn).label("txn"),
    _count(_entries).label("entries"),
    _count(_withdrawn).label("withdrawn"),
    _count(_obliged).label("obliged"),
)


@dataclass(frozen=True, slots=True)
class Confirming:
    """What one confirmation writes: the payment (as read under the locks) moved to
    succeeded, the booking, and its escrow's ledger transaction with the new rows' ids."""

    payment: Payment
    booking: Booking
    escrow: Transaction
    escrow_id: Any
    entry_ids: tuple[Any, ...]
    gateway_payment_id: str | None
    now: datetime


def confirm_params(c: Confirming) -> dict[str, Any]:
    """The confirming statement's parameters (ValueError for another number of entries)."""
    if len(c.escrow.entries) != ENTRIES or len(c.entry_ids) != ENTRIES:
        raise ValueError(f"the confirming statement writes {ENTRIES} ledger entries")
    params: dict[str, Any] = {
        "c_now": c.now,
        "c_payment_id": c.payment.id,
        "c_old_status": c.payment.status,
        "c_gateway_payment_id": c.gateway_payment_id,
        "c_hold_id": c.booking.hold_id,
        "c_slot_id": c.booking.slot_id,
        "c_booking_id": c.booking.id,
        "c_provider_id": c.booking.provider_id,
        "c_customer_id": c.booking.customer_id,
        "c_amount_minor": c.booking.amount_minor,
        "c_currency": c.booking.currency,
        "c_txn_id": c.escrow_id,
        "c_txn_kind": c.escrow.kind,
    }
    for i, (entry, entry_id) in enumerate(zip(c.escrow.entries, c.entry_ids, strict=True)):
        params |= {
            f"c_e{i}_id": entry_id,
            f"c_e{i}_account": entry.account,
            f"c_e{i}_amount": entry.amount_minor,
            f"c_e{i}_currency": entry.currency,
            f"c_e{i}_booking_id": entry.booking_id,
            f"c_e{i}_provider_id": entry.provider_id,
        }
    return params


def check_written(wrote: Mapping[str, Any] | RowMapping) -> None:
    """IllegalTransition (which rolls the transaction back) unless the statement wrote
    exactly one of each row, both entries, and an obligation per withdrawn payment."""
    expected = {"paid": 1, "confirmed": 1, "booked": 1, "booking": 1, "txn": 1}
    if any(wrote[k] != n for k, n in expected.items()) or wrote["entries"] != ENTRIES:
        raise IllegalTransition(f"the confirming statement wrote {dict(wrote)}")
    if wrote["obliged"] != wrote["withdrawn"]:
        raise IllegalTransition(f"withdrawn payments without their obligations: {dict(wrote)}")


async def confirm_payment(conn: AsyncConnection, confirming: Confirming) -> Payment:
    """Payment succeeded, hold confirmed, slot booked, booking and escrow written, the
    hold's other pending payments withdrawn: one statement; the payment as moved."""
    moved = confirming.payment.moved(PaymentStatus.SUCCEEDED)  # IllegalTransition first
    row = (await conn.execute(CONFIRM, confirm_params(confirming))).one()
    check_written(row._mapping)
    return moved
