"""Payments of a hold: start one at the gateway, read it (waiting for its outcome), and
note the customer's return from the gateway, which starts the confirmation deadline.

Starting a payment is three steps, and no gateway call happens inside a transaction:
1. one transaction, in the lock order (slot, hold, payment): the hold is still the
   customer's, live and has something to pay; the new payment is written `pending`
   beside the hold's earlier ones, which stay as they are;
2. the gateway call, with an idempotency key made of the payment's id, so repeating it
   (a retry, a recovery) never creates a second payment at the gateway;
3. one transaction, in the lock order, storing the gateway's id and redirect; only now,
   with the new payment open at the gateway, are the hold's pending payments started no
   later than it cancelled here and withdrawn at the gateway by the outbox. If the
   gateway refuses or cannot be reached, the new payment is cancelled instead (and
   withdrawn by the outbox, in case the gateway did make it), the hold and its earlier
   payments are kept as they were, and the answer is 502 or 503.

Between steps 1 and 3 a hold has two pending payments. That is safe for the reason that
makes switching method safe at all: the first success confirms the hold and withdraws the
other pending payments; a success of any other payment of the hold is late and refunded
in full (domain/payments.py). A new payment cancelled meanwhile (its hold released,
another payment confirmed it) is withdrawn again in step 3, once its gateway id is known.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from uuid import UUID

from slotbook.adapters.db import locking
from slotbook.adapters.db.engine import Connection
from slotbook.adapters.db.repos import outbox
from slotbook.adapters.db.repos import payments as payment_repo
from slotbook.adapters.db.repos.outbox import TaskKind
from slotbook.domain.errors import (
    GatewayRefused,
    GatewayUnavailable,
    HoldNotActive,
    HoldNotFound,
    HoldNotPayable,
    InvalidRequest,
    PaymentNotFound,
)
from slotbook.domain.gateway import CreatedPayment, CreatePayment, PaymentMethod, idempotency_key
from slotbook.domain.payments import Payment, Refund, is_payable
from slotbook.domain.states import FINAL_PAYMENT_STATUSES, PaymentStatus
from slotbook.service_layer.context import Context

MAX_WAIT_SECONDS = 10.0


async def start_payment(
    ctx: Context,
    *,
    hold_id: UUID,
    customer_id: UUID,
    method: PaymentMethod,
    return_url: str | None,
    payment_id: UUID | None = None,
    card_token: str | None = None,
) -> Payment:
    """Start paying for the customer's live hold; 409 HoldNotActive when it is not, 409
    HoldNotPayable when its amount is not more than zero (nothing written either way)."""
    gateway = ctx.gateways.for_method(method)
    check_card_token(method, card_token, takes_card_token=gateway.takes_card_token)
    now = ctx.clock.now()
    payment_id = payment_id or uuid.uuid4()
    async with ctx.db.write() as conn:
        locked = await locking.lock_slot_and_hold(conn, hold_id)
        if locked is None or locked[1].customer_id != customer_id:
            raise HoldNotFound(f"no hold {hold_id}")
        slot, hold = locked
        if not (hold.is_live(now) and slot.hold_id == hold.id):
            raise HoldNotActive("the hold is not active any more; take a new hold")
        if not is_payable(hold.amount_minor):
            raise HoldNotPayable(
                f"the hold's amount is {hold.amount_minor} {hold.currency}: there is nothing "
                "to pay, so no payment can start"
            )
        payment = Payment(
            id=payment_id,
            hold_id=hold.id,
            customer_id=customer_id,
            provider_id=hold.provider_id,
            gateway=gateway.name,
            method=method,
            status=PaymentStatus.PENDING,
            amount_minor=hold.amount_minor,
            currency=hold.currency,
            created_at=now,
            return_url=return_url or default_return_url(ctx, payment_id),
        )
        await payment_repo.add_payment(conn, payment)
        expires_at = hold.expires_at
    return await open_at_gateway(ctx, payment, expires_at=expires_at, card_token=card_token)


def check_card_token(
    method: PaymentMethod, card_token: str | None, *, takes_card_token: bool
) -> None:
    """A card token goes with a card payment to a gateway that charges tokens, and such a
    gateway gets one: InvalidRequest otherwise, before anything is written."""
    loc = ("body", "card_token")
    if card_token is not None and method is not PaymentMethod.CARD:
        raise InvalidRequest("card_token goes with method card only", loc=loc)
    if card_token is not None and not takes_card_token:
        raise InvalidRequest(
            "card payments are made on the gateway's own page here: send no card_token",
            loc=loc,
        )
    if card_token is None and method is PaymentMethod.CARD and takes_card_token:
        raise InvalidRequest(
            "card payments need the card_token made by the gateway's card form", loc=loc
        )


async def open_at_gateway(
    ctx: Context,
    payment: Payment,
    *,
    expires_at: datetime | None = None,
    card_token: str | None = None,
) -> Payment:
    """Steps 2 and 3 for a payment written `pending` (again, after a crash, is safe)."""
    gateway = ctx.gateways.named(payment.gateway)
    request = CreatePayment(
        reference=payment.id,
        amount_minor=payment.amount_minor,
        currency=payment.currency,
        method=payment.method,
        description=f"slotbook booking {payment.hold_id}",
        return_url=payment.return_url or default_return_url(ctx, payment.id),
        notify_url=f"{ctx.settings.public_url.rstrip('/')}/v1/webhooks/{gateway.name}",
        expires_at=expires_at
        or payment.created_at + timedelta(seconds=ctx.settings.hold_ttl_seconds),
        idempotency_key=idempotency_key("create-payment", payment.id),
        hold_id=payment.hold_id,
        card_token=card_token,
    )
    try:
        created = await gateway.create_payment(request)
    except (GatewayUnavailable, GatewayRefused):
        await _abandon(ctx, payment)
        raise
    return await _opened(ctx, payment, created)


async def _opened(ctx: Context, payment: Payment, created: CreatedPayment) -> Payment:
    """Step 3: the gateway's id and redirect stored; the payment, open there now, replaces
    the hold's pending payments started no later than it. One cancelled meanwhile is
    withdrawn again, now that the gateway's id is known. The payment as it now is."""
    now = ctx.clock.now()
    async with ctx.db.write() as conn:
        await locking.lock_slot_and_hold(conn, payment.hold_id)
        current = await payment_repo.get_payment(conn, payment.id, for_update=True)
        await payment_repo.set_gateway_details(
            conn,
            payment.id,
            gateway_payment_id=created.gateway_payment_id,
            redirect_url=created.redirect_url,
        )
        current = current or payment
        if current.status is PaymentStatus.PENDING:
            await _cancel_replaced(conn, current, now=now)
        elif current.status is PaymentStatus.CANCELLED:
            await outbox.add(conn, TaskKind.CANCEL_PAYMENT, current.id, due_at=now, now=now)
    return replace(
        current, gateway_payment_id=created.gateway_payment_id, redirect_url=created.redirect_url
    )


async def _cancel_replaced(conn: Connection, payment: Payment, *, now: datetime) -> None:
    """The hold's other pending payments started no later than `payment`: cancelled here,
    withdrawn at the gateway by the outbox. A later one is a newer start still under way:
    it replaces `payment` in its own step 3."""
    for other in await payment_repo.payments_of_holds(conn, [payment.hold_id]):
        if (
            other.id != payment.id
            and other.status is PaymentStatus.PENDING
            and other.created_at <= payment.created_at
        ):
            await payment_repo.move_payment(conn, other, PaymentStatus.CANCELLED, now=now)
            await outbox.add(conn, TaskKind.CANCEL_PAYMENT, other.id, due_at=now, now=now)


async def _abandon(ctx: Context, payment: Payment) -> None:
    """The gateway could not start it: cancelled here, withdrawn there in case it exists;
    the hold's other payments are left as they were."""
    now = ctx.clock.now()
    async with ctx.db.write() as conn:
        locked = await locking.lock_slot_and_hold(conn, payment.hold_id)
        current = await payment_repo.get_payment(conn, payment.id, for_update=True)
        if locked is not None and current is not None and current.status is PaymentStatus.PENDING:
            await payment_repo.move_payment(conn, current, PaymentStatus.CANCELLED, now=now)
            await outbox.add(conn, TaskKind.CANCEL_PAYMENT, payment.id, due_at=now, now=now)


def default_return_url(ctx: Context, payment_id: UUID) -> str:
    """Where the gateway sends the customer back when the client named no page."""
    return f"{ctx.settings.public_url.rstrip('/')}/v1/payments/{payment_id}"


async def get_payment(ctx: Context, *, payment_id: UUID, customer_id: UUID) -> Payment:
    """The customer's own payment; another customer's answers PaymentNotFound."""
    async with ctx.db.read() as conn:
        payment = await payment_repo.get_payment(conn, payment_id)
    if payment is None or payment.customer_id != customer_id:
        raise PaymentNotFound(f"no payment {payment_id}")
    return payment


async def wait_for_payment(
    ctx: Context, *, payment_id: UUID, customer_id: UUID, wait_seconds: float
) -> Payment:
    """The payment once its status is final, or as it is after `wait_seconds` (at most
    10 s); woken by the change itself, not by polling."""
    deadline = time.monotonic() + min(max(wait_seconds, 0.0), MAX_WAIT_SECONDS)
    while True:
        async with ctx.payment_watch.watching(payment_id) as changed:
            payment = await get_payment(ctx, payment_id=payment_id, customer_id=customer_id)
            remaining = deadline - time.monotonic()
            if payment.status in FINAL_PAYMENT_STATUSES or remaining <= 0:
                return payment
            await changed.wait(remaining)


async def mark_returned(ctx: Context, *, payment_id: UUID, customer_id: UUID) -> Payment:
    """The customer is back from the gateway: the confirmation deadline starts (once)."""
    now = ctx.clock.now()
    deadline = now + timedelta(seconds=ctx.settings.payment_confirm_timeout_seconds)
    async with ctx.db.write() as conn:
        payment = await payment_repo.get_payment(conn, payment_id)
        if payment is None or payment.customer_id != customer_id:
            raise PaymentNotFound(f"no payment {payment_id}")
        pending = payment.status is PaymentStatus.PENDING
        if pending and await payment_repo.mark_returned(conn, payment_id, now=now):
            await outbox.add(conn, TaskKind.CONFIRM_DEADLINE, payment_id, due_at=deadline, now=now)
            payment = replace(payment, returned_at=now)
    return payment


async def refund_of(ctx: Context, payment_id: UUID) -> Refund | None:
    """The payment's refund, if one is owed or done."""
    async with ctx.db.read() as conn:
        return await payment_repo.refund_of_payment(conn, payment_id)


async def payments_of_hold(ctx: Context, hold_id: UUID) -> list[tuple[Payment, Refund | None]]:
    """A hold's payments, oldest first, each with its refund."""
    async with ctx.db.read() as conn:
        found = await payment_repo.payments_of_holds(conn, [hold_id])
        refunds = await payment_repo.refunds_of_payments(conn, [p.id for p in found])
    return [(p, refunds.get(p.id)) for p in found]


async def find_own_payment(ctx: Context, *, payment_id: UUID, customer_id: UUID) -> Payment | None:
    """The customer's payment of that id, or None."""
    async with ctx.db.read() as conn:
        payment = await payment_repo.get_payment(conn, payment_id)
    return payment if payment is not None and payment.customer_id == customer_id else None
