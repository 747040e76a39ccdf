"""Shared by the tests of PostgreSQL's confirming paths (test_pg_confirm.py,
test_pg_success.py): one database and gateway seen through two contexts, one confirming
in one statement (and settling success webhooks on the raw pool), one writing one by
one; a paid hold to confirm; a gateway's success for it; and every row a confirmation
may write, normalised so that two runs compare equal when they wrote alike."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import or_, select

from slotbook.adapters.clock import ManualClock
from slotbook.adapters.db.payment_tables import (
    ledger_entries,
    ledger_transactions,
    outbox,
    payments,
    webhook_events,
)
from slotbook.adapters.db.repos import payments as payment_repo
from slotbook.adapters.db.tables import bookings, holds, slots
from slotbook.bootstrap import build_context, close_context
from slotbook.config import Settings
from slotbook.domain.gateway import EventKind, GatewayEvent
from slotbook.domain.payments import Payment
from slotbook.service_layer import payment_outcomes as outcomes
from slotbook.service_layer.context import Context
from tests import builders
from tests import databases as dbs
from tests.fakes import FakeGateway

PRICE = 45_000


@pytest.fixture
def database_url(pg_template_url: str | None) -> str:
    """PostgreSQL only: SQLite has no one-statement path to compare."""
    dbs.require_postgres(pg_template_url is not None)
    assert pg_template_url is not None
    asyncio.run(dbs.truncate_pg(pg_template_url))
    return pg_template_url


@pytest.fixture
async def both(
    settings: Settings, clock: ManualClock, gateway: FakeGateway
) -> AsyncIterator[tuple[Context, Context]]:
    """The same database and gateway, confirming in one statement and one by one."""
    fast = await build_context(settings, clock=clock, gateways=gateway.gateways())
    slow_settings = settings.model_copy(update={"confirm_in_one_statement": False})
    slow = await build_context(slow_settings, clock=clock, gateways=gateway.gateways())
    yield fast, slow
    await close_context(fast)
    await close_context(slow)


async def paid_hold(
    ctx: Context, clock: ManualClock, extra_pending: int, *, gateway_id_recorded: bool = True
) -> Payment:
    """A live hold with its payment at the gateway, and `extra_pending` more pending
    payments written beside it (as a crashed start could leave them); without
    `gateway_id_recorded`, the gateway's answer to the payment's start was lost."""
    _, found = await builders.provider_with_slots(
        ctx, first=clock.now() + timedelta(days=1), count=1, price_minor=PRICE
    )
    payment, _ = await builders.paying(ctx, found[0])
    async with ctx.db.write() as conn:
        for i in range(extra_pending):
            stray = replace(
                payment, id=uuid.uuid4(), created_at=clock.now() + timedelta(seconds=i + 1)
            )
            await payment_repo.add_payment(conn, stray)
        if not gateway_id_recorded:
            await conn.execute(
                payments.update()
                .where(payments.c.id == payment.id)
                .values(gateway_payment_id=None, redirect_url=None)
            )
    clock.advance(30)
    return payment


def success(payment: Payment) -> outcomes.Report:
    gid = payment.gateway_payment_id
    webhook = GatewayEvent(
        event_id=f"evt_{uuid.uuid4().hex}",
        kind=EventKind.PAYMENT_SUCCEEDED,
        gateway_payment_id=gid,
        reference=payment.id,
        amount_minor=payment.amount_minor,
        currency=payment.currency,
    )
    return outcomes.Report(
        payment_id=None,  # found from the gateway's ids, as for a webhook
        gateway="fake",
        gateway_payment_id=gid,
        reference=payment.id,
        amount_minor=payment.amount_minor,
        event=webhook,
    )


async def rows_of(ctx: Context, payment: Payment, since: datetime) -> dict[str, Any]:
    """Every row the confirmation may write for this payment's hold, with the ids of that
    run replaced by their role in it and its times by their distance from `since`, so two
    runs compare equal when they wrote alike."""
    async with ctx.db.read() as conn:
        hold = (await conn.execute(select(holds).where(holds.c.id == payment.hold_id))).one()
        pays = (
            await conn.execute(
                select(payments)
                .where(payments.c.hold_id == payment.hold_id)
                .order_by(payments.c.created_at)
            )
        ).all()
        names: dict[Any, str] = {p.id: f"payment{i}" for i, p in enumerate(pays)}
        names |= {
            p.gateway_payment_id: f"gateway id {i}"
            for i, p in enumerate(pays)
            if p.gateway_payment_id
        }
        names |= {hold.id: "hold", hold.slot_id: "slot", hold.customer_id: "customer"}
        names[hold.provider_id] = "provider"
        slot = (await conn.execute(select(slots).where(slots.c.id == hold.slot_id))).one()
        booking = (
            await conn.execute(select(bookings).where(bookings.c.hold_id == hold.id))
        ).one_or_none()
        if booking is not None:
            names[booking.id] = "booking"
        txns = (
            await conn.execute(
                select(ledger_transactions).where(
                    ledger_transactions.c.payment_id.in_([p.id for p in pays])
                )
            )
        ).all()
        names |= {t.id: f"txn{i}" for i, t in enumerate(txns)}
        entries = (
            await conn.execute(
                select(ledger_entries)
                .where(ledger_entries.c.transaction_id.in_([t.id for t in txns]))
                .order_by(ledger_entries.c.account)
            )
        ).all()
        tasks = (
            await conn.execute(
                select(outbox)
                .where(or_(*(outbox.c.subject_id == p.id for p in pays)))
                .order_by(outbox.c.kind, outbox.c.created_at)
            )
        ).all()
        events = (
            await conn.execute(
                select(webhook_events.c.kind).where(
                    webhook_events.c.gateway_payment_id.in_([p.gateway_payment_id for p in pays])
                )
            )
        ).all()

    def norm(row: Any, *drop: str) -> dict[str, Any]:
        return {k: role(v) for k, v in row._mapping.items() if k not in drop}

    def role(value: Any) -> Any:
        if isinstance(value, datetime):
            return value - since
        if isinstance(value, str):
            for known, name in names.items():
                if known is not None:
                    value = value.replace(str(known), name)
            return value
        return names.get(value, "new id" if isinstance(value, uuid.UUID) else value)

    return {
        "hold": norm(hold),
        "slot": norm(slot),
        "payments": [norm(p) for p in pays],
        "booking": norm(booking) if booking is not None else None,
        "ledger_transactions": [norm(t) for t in txns],
        "ledger_entries": [norm(e, "id") for e in entries],
        "outbox": [norm(t, "id") for t in tasks],
        "webhook_events": sorted(e.kind for e in events),
    }
