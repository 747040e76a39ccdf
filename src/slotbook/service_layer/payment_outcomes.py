"""What the gateway's word about a payment does, one business fact per transaction.

A success confirms the hold into a booking with its escrow, or (late, second, or not the
price) is owed back in full; a failure releases the hold; a confirmed refund closes the
debt. Each runs in one transaction that also records the webhook event it came from (so a
crash can neither lose it nor apply it twice) and takes its rows in the lock order:
slot, hold, payment, booking, ledger (adapters/db/locking.py). Every outcome is
idempotent and order-independent: a duplicate, or a failure after a success, changes
nothing. The confirming writes themselves are confirmation.py's.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import structlog

from slotbook.adapters.db import locking, pg_success
from slotbook.adapters.db.engine import Connection
from slotbook.adapters.db.repos import ledger, outbox, webhook_events
from slotbook.adapters.db.repos import payments as payment_repo
from slotbook.adapters.db.repos.hold_writes import release_hold
from slotbook.adapters.db.repos.outbox import TaskKind
from slotbook.domain import ledger as rules
from slotbook.domain.gateway import GatewayEvent
from slotbook.domain.holds import Hold
from slotbook.domain.payments import (
    LatePolicy,
    Payment,
    Refund,
    SuccessFate,
    failure_releases_hold,
    fate_of_success,
)
from slotbook.domain.slots import Slot
from slotbook.domain.states import HoldStatus, PaymentStatus, ReleaseReason
from slotbook.service_layer import confirmation
from slotbook.service_layer.context import Context

log = structlog.get_logger("slotbook.payments")


@dataclass(frozen=True, slots=True)
class Report:
    """One thing the gateway said about one of our payments."""

    payment_id: uuid.UUID | None  # None: found from the ids the gateway gave
    gateway: str
    gateway_payment_id: str | None = None
    reference: uuid.UUID | None = None  # our payment id, as the gateway echoes it
    amount_minor: int | None = None
    event: GatewayEvent | None = None  # None: learnt by asking the gateway (reconcile)


async def payment_succeeded(ctx: Context, report: Report) -> SuccessFate | None:
    """Record a success; its fate, or None for a duplicate event or an unknown payment."""
    now = ctx.clock.now()
    settled = await _settle_at_once(ctx, report, now)
    if isinstance(settled, _NotSettled):
        settled = await _settle(ctx, report, now)
    if settled is None:
        return None
    fate, paid = settled
    if fate is not SuccessFate.ALREADY_RECORDED:
        log.info("payment_succeeded", payment_id=str(paid.id), fate=fate.value)
        ctx.payment_watch.poke(paid.id)
    return fate


class _NotSettled:
    """The fast path did not apply: it wrote nothing, the general path decides."""


async def _settle_at_once(
    ctx: Context, report: Report, now: datetime
) -> tuple[SuccessFate, Payment] | _NotSettled | None:
    """PostgreSQL's common case of a success webhook, in three statements on the raw pool
    (adapters/db/pg_success.py): a new event whose payment's hold is live and owns its
    slot confirms it; a duplicate changes nothing; a success already recorded keeps only
    the event's record. Anything else rolls back and is the general path's."""
    event = report.event
    raw = ctx.db.raw
    if raw is None or event is None or not event.gateway_payment_id:
        return _NotSettled()
    if not ctx.settings.confirm_in_one_statement:
        return _NotSettled()
    async with pg_success.transaction(raw) as txn:
        found = await txn.record_and_lock_slot(report.gateway, event, now=now)
        if found is None:
            return _NotSettled()  # no payment has that gateway id (yet): by reference
        fresh, payment_id, slot = found
        if not fresh:
            return None
        locked = await txn.lock_hold_and_payment(payment_id)
        if locked is None:
            return _NotSettled()
        hold, payment = locked
        fate = _fate(ctx, report, slot, hold, payment, now)
        if fate is SuccessFate.CONFIRM:
            payment = await txn.confirm(
                confirmation.confirming(
                    hold, payment, gateway_payment_id=event.gateway_payment_id, now=now
                )
            )
        elif fate is not SuccessFate.ALREADY_RECORDED:
            return _NotSettled()
        txn.keep()
        return fate, payment


async def _settle(
    ctx: Context, report: Report, now: datetime
) -> tuple[SuccessFate, Payment] | None:
    """Any success on either database, one transaction: its fate and the payment."""
    async with ctx.db.write() as conn:
        locked = await _lock_for(ctx, conn, report, now)
        if locked is None:
            return None
        slot, hold, payment = locked
        fate = _fate(ctx, report, slot, hold, payment, now)
        if fate is SuccessFate.ALREADY_RECORDED:
            return fate, payment
        if fate is SuccessFate.CONFIRM and confirmation.in_one_statement(ctx, conn):
            paid = await confirmation.confirm_in_one_statement(
                conn, hold, payment, gateway_payment_id=report.gateway_payment_id, now=now
            )
        else:
            paid = await _mark(conn, payment, PaymentStatus.SUCCEEDED, report, now)
            if fate is SuccessFate.CONFIRM:
                await confirmation.confirm(conn, hold.confirm(now, uuid.uuid4()), paid, now)
            elif fate is SuccessFate.CONFIRM_FREE_SLOT:
                await confirmation.book_free_slot(ctx, conn, slot, paid, now)
            else:
                await owe_back(conn, paid, reason=_refund_reason(hold, report, paid), now=now)
    return fate, paid


def _fate(
    ctx: Context, report: Report, slot: Slot, hold: Hold, payment: Payment, now: datetime
) -> SuccessFate:
    return fate_of_success(
        payment=payment,
        hold=hold,
        slot=slot,
        now=now,
        policy=LatePolicy(ctx.settings.late_payment_policy.value),
        amount_minor=report.amount_minor,
    )


async def payment_failed(ctx: Context, report: Report) -> bool:
    """Record a decline; the hold is released if this was its live attempt. True if it
    changed anything."""
    now = ctx.clock.now()
    async with ctx.db.write() as conn:
        locked = await _lock_for(ctx, conn, report, now)
        if locked is None:
            return False
        _slot, hold, payment = locked
        if payment.status is not PaymentStatus.PENDING:
            return False  # a failure after a success (or a cancel) changes nothing
        others_pending = any(
            p.id != payment.id and p.status is PaymentStatus.PENDING
            for p in await payment_repo.payments_of_holds(conn, [hold.id])
        )
        releases = failure_releases_hold(
            payment=payment, hold=hold, now=now, others_pending=others_pending
        )
        await _mark(conn, payment, PaymentStatus.FAILED, report, now)
        if releases:
            await release_hold(conn, hold.release(ReleaseReason.PAYMENT_FAILED), now=now)
    log.info("payment_failed", payment_id=str(payment.id), hold_released=releases)
    ctx.payment_watch.poke(payment.id)
    return True


async def refund_succeeded(ctx: Context, report: Report, *, gateway_refund_id: str) -> bool:
    """The gateway gave the money back: the debt is closed, once. True if it was open."""
    now = ctx.clock.now()
    async with ctx.db.write() as conn:
        locked = await _lock_for(ctx, conn, report, now)
        if locked is None:
            return False
        _slot, _hold, payment = locked
        refund = await payment_repo.refund_of_payment(conn, payment.id)
        if refund is not None and report.amount_minor not in (None, refund.amount_minor):
            log.warning("refund_of_another_amount", payment_id=str(payment.id))
            return False  # made elsewhere (a partial refund): not the one slotbook owes
        if refund is None or not await payment_repo.refund_paid(
            conn, refund.id, gateway_refund_id=gateway_refund_id, now=now
        ):
            return False
        await payment_repo.move_payment(conn, payment, PaymentStatus.REFUNDED, now=now)
        txn = rules.refund_paid(
            payment_id=payment.id, amount_minor=refund.amount_minor, currency=refund.currency
        )
        await ledger.post(conn, txn, now=now)
    log.info("refund_succeeded", payment_id=str(payment.id))
    ctx.payment_watch.poke(payment.id)
    return True


async def owe_back(conn: Connection, payment: Payment, *, reason: str, now: datetime) -> Refund:
    """A succeeded payment that confirms nothing: owed back in full, refunded by a worker."""
    await ledger.post(
        conn,
        rules.capture_to_refund(
            payment_id=payment.id, amount_minor=payment.amount_minor, currency=payment.currency
        ),
        now=now,
    )
    return await queue_refund(conn, payment, reason=reason, now=now)


async def queue_refund(conn: Connection, payment: Payment, *, reason: str, now: datetime) -> Refund:
    """The payment's full refund, written with the obligation to carry it out."""
    refund = Refund(
        id=uuid.uuid4(),
        payment_id=payment.id,
        amount_minor=payment.amount_minor,
        currency=payment.currency,
        reason=reason,
        status="pending",
        gateway_refund_id=None,
    )
    await payment_repo.add_refund(conn, refund, now=now)
    await outbox.add(conn, TaskKind.REFUND, refund.id, due_at=now, now=now)
    return refund


async def _lock_for(
    ctx: Context, conn: Connection, report: Report, now: datetime
) -> tuple[Slot, Hold, Payment] | None:
    """Record the event (None if seen before), then lock slot, hold and payment."""
    found = None
    if report.event is not None:
        fresh, found = await webhook_events.record_and_find(
            conn, report.gateway, report.event, now=now
        )
        if not fresh:
            return None
    payment_id = (
        report.payment_id
        or found
        or await payment_repo.reported_payment_id(
            conn, report.gateway, report.gateway_payment_id, report.reference
        )
    )
    locked = await locking.lock_for_payment(conn, payment_id) if payment_id else None
    if locked is None:
        log.warning(
            "report_for_unknown_payment",
            gateway=report.gateway,
            gateway_payment_id=report.gateway_payment_id,
            reference=str(report.reference),
        )
    return locked


async def _mark(
    conn: Connection, payment: Payment, status: PaymentStatus, report: Report, now: datetime
) -> Payment:
    if report.gateway_payment_id and payment.gateway_payment_id is None:
        await payment_repo.set_gateway_details(
            conn, payment.id, gateway_payment_id=report.gateway_payment_id, redirect_url=None
        )
    moved = await payment_repo.move_payment(conn, payment, status, now=now)
    assert moved is not None  # the payment row is locked
    return moved


def _refund_reason(hold: Hold, report: Report, paid: Payment) -> str:
    if report.amount_minor is not None and report.amount_minor != paid.amount_minor:
        return "amount_mismatch"
    if hold.status is HoldStatus.CONFIRMED:
        return "second_payment"
    return "late_payment"
