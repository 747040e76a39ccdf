"""The outbox worker: carries out what a committed fact obliged us to do at the gateway.

One mechanism for all of it (adapters/db/repos/outbox.py): due rows are leased with SKIP
LOCKED by any number of workers (the sweeper loop runs one in every process), acted on
outside any transaction, then marked done or due again with backoff. The obligations:

- `cancel_hold_payments` — a hold was released: its pending payments are cancelled here
  and each gets a `cancel_payment`;
- `cancel_payment` — withdraw one payment at the gateway; if the customer had already
  paid, the gateway says so and the success is recorded (late: refunded, or booked);
- `refund` — give the money back, retried until the gateway confirms it;
- `confirm_deadline` — the customer came back from the gateway and no success arrived in
  time: ask the gateway once, then release the hold `payment_unconfirmed`;
- `reconcile_payment` — a payment stuck `pending`: ask the gateway what became of it.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from datetime import timedelta
from uuid import UUID

import structlog

from slotbook.adapters.db import locking
from slotbook.adapters.db.repos import outbox
from slotbook.adapters.db.repos import payments as payment_repo
from slotbook.adapters.db.repos.hold_writes import release_hold
from slotbook.adapters.db.repos.outbox import Task, TaskKind
from slotbook.domain.errors import GatewayRefused, GatewayUnavailable
from slotbook.domain.gateway import (
    GatewayPaymentStatus,
    PaymentState,
    RefundRequest,
    RefundStatus,
    idempotency_key,
)
from slotbook.domain.payments import Payment
from slotbook.domain.states import PaymentStatus, ReleaseReason
from slotbook.service_layer import payment_outcomes as outcomes
from slotbook.service_layer.context import Context

log = structlog.get_logger("slotbook.outbox")
Handler = Callable[[Context, UUID], Awaitable[bool]]  # True: done; False: again later


async def carry_out_due(ctx: Context) -> int:
    """Lease the due obligations and carry them out; how many were taken."""
    now = ctx.clock.now()
    lease = timedelta(seconds=ctx.settings.outbox_lease_seconds)
    async with ctx.db.write() as conn:
        tasks = await outbox.take_due(conn, now=now, lease=lease, limit=ctx.settings.outbox_batch)
    for task in tasks:
        await _carry_out(ctx, task)
    return len(tasks)


async def _carry_out(ctx: Context, task: Task) -> None:
    error = "not finished yet"
    try:
        finished = await HANDLERS[task.kind](ctx, task.subject_id)
    except (GatewayUnavailable, GatewayRefused) as exc:
        finished, error = False, f"{type(exc).__name__}: {exc.detail}"
    except Exception as exc:
        log.exception("obligation_failed", kind=task.kind.value, subject=str(task.subject_id))
        finished, error = False, f"{type(exc).__name__}: {exc}"
    now = ctx.clock.now()
    async with ctx.db.write() as conn:
        if finished:
            await outbox.done(conn, task.id, now=now)
        else:
            await outbox.again_at(conn, task.id, due_at=now + _backoff(ctx, task), error=error)


def _backoff(ctx: Context, task: Task) -> timedelta:
    """1 s, 2 s, 4 s ... up to the setting, with jitter so retries don't march in step."""
    ceiling = ctx.settings.outbox_max_backoff_seconds
    seconds = min(ceiling, 2.0 ** max(task.attempts - 1, 0))
    return timedelta(seconds=seconds * random.uniform(0.75, 1.25))


async def _cancel_hold_payments(ctx: Context, hold_id: UUID) -> bool:
    now = ctx.clock.now()
    async with ctx.db.write() as conn:
        if await locking.lock_slot_and_hold(conn, hold_id) is None:
            return True
        for payment in await payment_repo.payments_of_holds(conn, [hold_id]):
            if payment.status is PaymentStatus.PENDING:
                await payment_repo.move_payment(conn, payment, PaymentStatus.CANCELLED, now=now)
                await outbox.add(conn, TaskKind.CANCEL_PAYMENT, payment.id, due_at=now, now=now)
    return True


async def _cancel_payment(ctx: Context, payment_id: UUID) -> bool:
    payment = await _payment(ctx, payment_id)
    if payment is None or payment.gateway_payment_id is None:
        return True  # never opened at the gateway: nothing to withdraw
    gateway = ctx.gateways.named(payment.gateway)
    state = await gateway.cancel_payment(
        payment.gateway_payment_id, idempotency_key=idempotency_key("cancel-payment", payment.id)
    )
    await _apply(ctx, payment, state)
    return True


async def _refund(ctx: Context, refund_id: UUID) -> bool:
    async with ctx.db.read() as conn:
        refund = await payment_repo.get_refund(conn, refund_id)
        payment = await payment_repo.get_payment(conn, refund.payment_id) if refund else None
    if refund is None or payment is None or refund.status == "succeeded":
        return True
    if payment.gateway_payment_id is None:
        raise GatewayRefused("a payment the gateway never named cannot be refunded")
    result = await ctx.gateways.named(payment.gateway).refund(
        RefundRequest(
            gateway_payment_id=payment.gateway_payment_id,
            amount_minor=refund.amount_minor,
            currency=refund.currency,
            idempotency_key=idempotency_key("refund", refund.id),
            reference=payment.id,
        )
    )
    if result.status is not RefundStatus.SUCCEEDED:
        return False  # the gateway is on it: ask again later (or its webhook closes it)
    report = outcomes.Report(payment_id=payment.id, gateway=payment.gateway)
    await outcomes.refund_succeeded(ctx, report, gateway_refund_id=result.gateway_refund_id)
    return True


async def _confirm_deadline(ctx: Context, payment_id: UUID) -> bool:
    """No success by the deadline: ask the gateway once; without a success, release."""
    payment = await _payment(ctx, payment_id)
    if payment is None or payment.status is not PaymentStatus.PENDING:
        return True
    state = None
    if payment.gateway_payment_id is not None:
        try:
            state = await ctx.gateways.named(payment.gateway).get_payment(
                payment.gateway_payment_id
            )
        except (GatewayUnavailable, GatewayRefused):
            log.warning("deadline_reconcile_failed", payment_id=str(payment_id))
    if state is not None and state.status in (
        GatewayPaymentStatus.SUCCEEDED,
        GatewayPaymentStatus.FAILED,
    ):
        await _apply(ctx, payment, state)
    else:
        await _unconfirmed(ctx, payment)
    return True


async def _unconfirmed(ctx: Context, payment: Payment) -> None:
    now = ctx.clock.now()
    async with ctx.db.write() as conn:
        locked = await locking.lock_slot_and_hold(conn, payment.hold_id)
        current = await payment_repo.get_payment(conn, payment.id, for_update=True)
        if locked is None or current is None or current.status is not PaymentStatus.PENDING:
            return
        await payment_repo.move_payment(conn, current, PaymentStatus.CANCELLED, now=now)
        await outbox.add(conn, TaskKind.CANCEL_PAYMENT, current.id, due_at=now, now=now)
        _slot, hold = locked
        if hold.is_live(now):
            await release_hold(conn, hold.release(ReleaseReason.PAYMENT_UNCONFIRMED), now=now)
    log.info("payment_unconfirmed", payment_id=str(payment.id))
    ctx.payment_watch.poke(payment.id)


async def _reconcile(ctx: Context, payment_id: UUID) -> bool:
    payment = await _payment(ctx, payment_id)
    if payment is None or payment.status is not PaymentStatus.PENDING:
        return True
    if payment.gateway_payment_id is None:
        return True
    state = await ctx.gateways.named(payment.gateway).get_payment(payment.gateway_payment_id)
    if state.status is GatewayPaymentStatus.PENDING:
        await _cancel_hold_payments(ctx, payment.hold_id)  # stuck: withdraw it
        return True
    await _apply(ctx, payment, state)
    return True


async def _apply(ctx: Context, payment: Payment, state: PaymentState) -> None:
    """What the gateway answered about a payment, recorded as its webhook would be."""
    report = outcomes.Report(
        payment_id=payment.id,
        gateway=payment.gateway,
        gateway_payment_id=state.gateway_payment_id,
        amount_minor=state.amount_minor,
    )
    if state.status is GatewayPaymentStatus.SUCCEEDED:
        await outcomes.payment_succeeded(ctx, report)
    elif state.status is GatewayPaymentStatus.FAILED:
        await outcomes.payment_failed(ctx, report)


async def _payment(ctx: Context, payment_id: UUID) -> Payment | None:
    async with ctx.db.read() as conn:
        return await payment_repo.get_payment(conn, payment_id)


async def queue_stale_reconciles(ctx: Context, *, limit: int = 100) -> int:
    """Payments still pending well past any hold's life get a reconcile; how many."""
    now = ctx.clock.now()
    cutoff = now - timedelta(seconds=ctx.settings.hold_ttl_seconds + 60)
    queued = 0
    async with ctx.db.write() as conn:
        for payment_id in await payment_repo.stale_pending(
            conn, created_before=cutoff, limit=limit
        ):
            if not await outbox.outstanding(conn, TaskKind.RECONCILE_PAYMENT, payment_id):
                await outbox.add(conn, TaskKind.RECONCILE_PAYMENT, payment_id, due_at=now, now=now)
                queued += 1
    return queued


HANDLERS: dict[TaskKind, Handler] = {
    TaskKind.CANCEL_HOLD_PAYMENTS: _cancel_hold_payments,
    TaskKind.CANCEL_PAYMENT: _cancel_payment,
    TaskKind.REFUND: _refund,
    TaskKind.CONFIRM_DEADLINE: _confirm_deadline,
    TaskKind.RECONCILE_PAYMENT: _reconcile,
}
