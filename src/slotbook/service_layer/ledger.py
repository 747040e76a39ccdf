"""The admin's view of the ledger: balances, and whether the books balance."""

from __future__ import annotations

from slotbook.adapters.db.repos import ledger
from slotbook.adapters.db.repos import payments as payment_repo
from slotbook.domain.ledger import Summary, summarise
from slotbook.service_layer.context import Context


async def ledger_summary(ctx: Context) -> Summary:
    """Every account's balance per currency, read in one snapshot, and the invariant-5
    check in each currency."""
    async with ctx.db.read() as conn:
        balances = await ledger.balances(conn)
        unbalanced = await ledger.unbalanced_transactions(conn)
        received = await payment_repo.received_totals(conn)
    return summarise(balances, unbalanced=unbalanced, payments_received=received)
