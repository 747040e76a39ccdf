"""The openings the customer's hold and payment pages share: who is signed in (else off
to log in), and their own hold, or their own payment with its hold (another customer's
answers the not-found page, as one that does not exist)."""

from __future__ import annotations

from typing import NamedTuple
from uuid import UUID

from starlette.requests import Request
from starlette.responses import Response

from slotbook.domain import errors as e
from slotbook.domain.holds import Hold
from slotbook.domain.model import Principal
from slotbook.domain.payments import Payment
from slotbook.service_layer import holds, payments
from slotbook.service_layer.context import Context
from slotbook.web.pages import ctx_of, not_found, to_login
from slotbook.web.session import principal_of


class OwnHold(NamedTuple):
    """The request's context, the signed-in customer and their hold."""

    ctx: Context
    who: Principal
    hold: Hold


class OwnPayment(NamedTuple):
    """The request's context, the signed-in customer, their payment and its hold."""

    ctx: Context
    who: Principal
    payment: Payment
    hold: Hold


async def own_hold(request: Request, hold_id: UUID) -> OwnHold | Response:
    """The signed-in customer's own hold; else off to log in, or the not-found page."""
    ctx = ctx_of(request)
    who = principal_of(ctx, request)
    if who is None:
        return to_login(request)
    try:
        hold = await holds.get_hold(ctx, hold_id=hold_id, customer_id=who.user_id)
    except e.HoldNotFound:
        return not_found(request, who)
    return OwnHold(ctx, who, hold)


async def own_payment(request: Request, payment_id: UUID) -> OwnPayment | Response:
    """The signed-in customer's own payment and its hold; else off to log in, or the
    not-found page."""
    ctx = ctx_of(request)
    who = principal_of(ctx, request)
    if who is None:
        return to_login(request)
    try:
        payment = await payments.get_payment(ctx, payment_id=payment_id, customer_id=who.user_id)
        hold = await holds.get_hold(ctx, hold_id=payment.hold_id, customer_id=who.user_id)
    except (e.PaymentNotFound, e.HoldNotFound):
        return not_found(request, who)
    return OwnPayment(ctx, who, payment, hold)
