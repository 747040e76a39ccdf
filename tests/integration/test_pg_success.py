"""PostgreSQL settles a success webhook on the raw pool (adapters/db/pg_success.py) when
it can: every case, fast or handed on to the general path, writes the rows the one-by-one
writes write, and a fault in the middle leaves nothing behind, not even the event."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime

import pytest
from sqlalchemy import func, select

from slotbook.adapters.clock import ManualClock
from slotbook.adapters.db import pg_success
from slotbook.adapters.db.connections import BoundedPool
from slotbook.adapters.db.payment_tables import webhook_events
from slotbook.domain.errors import IllegalTransition
from slotbook.domain.gateway import GatewayEvent
from slotbook.domain.payments import Payment, SuccessFate
from slotbook.domain.states import PaymentStatus
from slotbook.service_layer import confirmation
from slotbook.service_layer import payment_outcomes as outcomes
from slotbook.service_layer.context import Context
from tests.integration.confirming import both, database_url, paid_hold, rows_of, success

pytestmark = pytest.mark.postgres
__all__ = ["both", "database_url"]  # fixtures


async def test_a_redelivered_success_changes_nothing_more(
    both: tuple[Context, Context], clock: ManualClock
) -> None:
    seen = []
    for ctx in both:
        since = clock.now()
        payment = await paid_hold(ctx, clock, 1)
        webhook = success(payment)
        assert await outcomes.payment_succeeded(ctx, webhook) is SuccessFate.CONFIRM
        assert await outcomes.payment_succeeded(ctx, webhook) is None
        seen.append(await rows_of(ctx, payment, since))
    assert seen[0] == seen[1]
    assert seen[0]["webhook_events"] == ["payment.succeeded"]


async def test_a_success_learnt_before_its_webhook_keeps_only_the_events_record(
    both: tuple[Context, Context], clock: ManualClock
) -> None:
    """Reconciling asked the gateway first; the webhook then finds the success recorded."""
    seen = []
    for ctx in both:
        since = clock.now()
        payment = await paid_hold(ctx, clock, 0)
        asked = replace(success(payment), event=None, payment_id=payment.id)
        assert await outcomes.payment_succeeded(ctx, asked) is SuccessFate.CONFIRM
        fate = await outcomes.payment_succeeded(ctx, success(payment))
        assert fate is SuccessFate.ALREADY_RECORDED
        seen.append(await rows_of(ctx, payment, since))
    assert seen[0] == seen[1]
    assert seen[0]["webhook_events"] == ["payment.succeeded"]
    assert len(seen[0]["ledger_transactions"]) == 1


@pytest.mark.parametrize("late", ["hold ran out", "another amount"])
async def test_a_success_that_confirms_nothing_is_owed_back_alike(
    both: tuple[Context, Context], clock: ManualClock, late: str
) -> None:
    """Not the common case: the raw transaction rolls back and the general path, which
    records the event anew, owes the money back."""
    seen = []
    for ctx in both:
        since = clock.now()
        payment = await paid_hold(ctx, clock, 0)
        webhook = success(payment)
        if late == "hold ran out":
            clock.advance(ctx.settings.hold_ttl_seconds + 1)
        else:
            webhook = replace(webhook, amount_minor=payment.amount_minor - 1)
        assert await outcomes.payment_succeeded(ctx, webhook) is SuccessFate.REFUND
        seen.append(await rows_of(ctx, payment, since))
    assert seen[0] == seen[1]
    assert seen[0]["booking"] is None
    assert [t["kind"] for t in seen[0]["ledger_transactions"]] == ["capture_to_refund"]
    assert seen[0]["webhook_events"] == ["payment.succeeded"]


async def test_a_fault_after_the_event_is_recorded_leaves_nothing(
    both: tuple[Context, Context], clock: ManualClock
) -> None:
    fast, pool, payment, webhook, event = await _a_success(both, clock)
    before = await rows_of(fast, payment, clock.now())
    with pytest.raises(IllegalTransition):
        await _confirm_a_stale_payment(pool, event, payment.id, clock.now())
    assert await rows_of(fast, payment, clock.now()) == before
    assert await _events_recorded(fast) == 0
    # and the connection went back to the pool clean: the same webhook now goes through
    assert await outcomes.payment_succeeded(fast, webhook) is SuccessFate.CONFIRM


async def test_an_unkept_transaction_writes_nothing(
    both: tuple[Context, Context], clock: ManualClock
) -> None:
    fast, pool, _payment, _webhook, event = await _a_success(both, clock)
    async with pg_success.transaction(pool) as txn:
        assert await txn.record_and_lock_slot("fake", event, now=clock.now())
    unknown = replace(event, gateway_payment_id=f"unknown_{uuid.uuid4().hex}")
    async with pg_success.transaction(pool) as txn:
        assert await txn.record_and_lock_slot("fake", unknown, now=clock.now()) is None
    assert await _events_recorded(fast) == 0


async def _a_success(
    both: tuple[Context, Context], clock: ManualClock
) -> tuple[Context, BoundedPool, Payment, outcomes.Report, GatewayEvent]:
    """The fast context, its raw pool, a paid hold's payment, and the gateway's success
    for it (as a report, and as the event it carries)."""
    fast, _ = both
    payment = await paid_hold(fast, clock, 0)
    webhook = success(payment)
    assert fast.db.raw is not None
    assert webhook.event is not None
    return fast, fast.db.raw, payment, webhook, webhook.event


async def _events_recorded(ctx: Context) -> int:
    async with ctx.db.read() as conn:
        return int(await conn.scalar(select(func.count()).select_from(webhook_events)) or 0)


async def _confirm_a_stale_payment(
    pool: BoundedPool, event: GatewayEvent, payment_id: uuid.UUID, now: datetime
) -> None:
    """The event recorded, then a confirmation of the payment as it no longer is."""
    async with pg_success.transaction(pool) as txn:
        found = await txn.record_and_lock_slot("fake", event, now=now)
        assert found is not None
        fresh, found_id, _slot = found
        assert fresh
        assert found_id == payment_id
        locked = await txn.lock_hold_and_payment(payment_id)
        assert locked is not None
        hold, read = locked
        stale = replace(read, status=PaymentStatus.FAILED)  # not what the row says
        await txn.confirm(
            confirmation.confirming(
                hold, stale, gateway_payment_id=read.gateway_payment_id, now=now
            )
        )
