"""The ledger's rows: appended, never changed (domain/ledger.py has the rules).

A transaction's entries are written before its header: on SQLite the header's insert is
where the database checks that they sum to zero (PostgreSQL checks at commit either way).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from uuid import UUID

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from slotbook.adapters.db.payment_tables import ledger_entries, ledger_transactions
from slotbook.domain.ledger import Account, Transaction

_ADD_ENTRIES, _ADD_TRANSACTION = insert(ledger_entries), insert(ledger_transactions)


async def post(conn: AsyncConnection, txn: Transaction, *, now: datetime) -> UUID:
    """Append one balanced transaction; its id."""
    txn_id = uuid.uuid4()
    await conn.execute(
        _ADD_ENTRIES,
        [
            {
                "id": uuid.uuid4(),
                "transaction_id": txn_id,
                "account": e.account,
                "amount_minor": e.amount_minor,
                "currency": e.currency,
                "booking_id": e.booking_id,
                "provider_id": e.provider_id,
            }
            for e in txn.entries
        ],
    )
    await conn.execute(
        _ADD_TRANSACTION,
        {
            "id": txn_id,
            "kind": txn.kind,
            "payment_id": txn.payment_id,
            "booking_id": txn.booking_id,
            "created_at": now,
        },
    )
    return txn_id


async def balances(conn: AsyncConnection) -> dict[tuple[Account, str], int]:
    """Each account's balance in each currency over every written transaction (debits
    positive; amounts in different currencies are never added together)."""
    rows = await conn.execute(
        select(
            ledger_entries.c.account,
            ledger_entries.c.currency,
            func.sum(ledger_entries.c.amount_minor),
        )
        .select_from(
            ledger_entries.join(
                ledger_transactions,
                ledger_transactions.c.id == ledger_entries.c.transaction_id,
            )
        )
        .group_by(ledger_entries.c.account, ledger_entries.c.currency)
    )
    return {(Account(account), currency): int(total) for account, currency, total in rows}


async def unbalanced_transactions(conn: AsyncConnection) -> dict[str, int]:
    """Per currency, how many transactions do not sum to zero in it (the database refuses
    them, so anything but none is a fault worth an alarm)."""
    per_currency = (
        select(ledger_entries.c.currency)
        .group_by(ledger_entries.c.transaction_id, ledger_entries.c.currency)
        .having(func.sum(ledger_entries.c.amount_minor) != 0)
        .subquery()
    )
    rows = await conn.execute(
        select(per_currency.c.currency, func.count()).group_by(per_currency.c.currency)
    )
    return {currency: int(count) for currency, count in rows}


async def escrow_of_booking(conn: AsyncConnection, booking_id: UUID) -> int:
    """What the booking's escrow holds now (credits as a positive amount)."""
    total = await conn.scalar(
        select(func.coalesce(func.sum(ledger_entries.c.amount_minor), 0)).where(
            ledger_entries.c.account == Account.ESCROW,
            ledger_entries.c.booking_id == booking_id,
        )
    )
    return -int(total or 0)
