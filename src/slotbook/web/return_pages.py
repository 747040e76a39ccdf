"""Back from the gateway: a page that waits for the confirmation (at most the deadline),
then the outcome: the booking, or what went wrong with the alternatives."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from slotbook.domain import errors as e
from slotbook.domain.states import FINAL_PAYMENT_STATUSES, HoldStatus, PaymentStatus
from slotbook.service_layer import holds, payments
from slotbook.web.describe import offers, slot_view
from slotbook.web.loading import own_payment
from slotbook.web.pages import ctx_of, not_found, render, see_other, to_login
from slotbook.web.session import principal_of

router = APIRouter(include_in_schema=False)
POLL_WAIT_SECONDS = 1.0


@router.get("/payments/{payment_id}/back")
async def back_from_gateway(request: Request, payment_id: UUID) -> Response:
    """The gateway's return: the deadline starts; the page polls for the outcome."""
    ctx = ctx_of(request)
    who = principal_of(ctx, request)
    if who is None:
        return to_login(request)
    try:
        payment = await payments.mark_returned(ctx, payment_id=payment_id, customer_id=who.user_id)
    except e.PaymentNotFound:
        return not_found(request, who)
    if payment.status in FINAL_PAYMENT_STATUSES:
        return see_other(f"/payments/{payment_id}/result")
    deadline = min(ctx.settings.payment_confirm_timeout_seconds, 5)
    return render(request, "waiting.html", principal=who, payment=payment, deadline=deadline)


@router.get("/payments/{payment_id}/status")
async def payment_status(request: Request, payment_id: UUID) -> Response:
    """For the waiting page: the payment's status, answered as soon as it is final (or
    after a second); errors are problems, as the API's."""
    ctx = ctx_of(request)
    who = principal_of(ctx, request)
    if who is None:
        raise e.Unauthorized("signed out: sign in again to follow the payment")
    payment = await payments.wait_for_payment(
        ctx, payment_id=payment_id, customer_id=who.user_id, wait_seconds=POLL_WAIT_SECONDS
    )
    final = payment.status in FINAL_PAYMENT_STATUSES
    if final and payment.status is PaymentStatus.SUCCEEDED:
        hold = await holds.get_hold(ctx, hold_id=payment.hold_id, customer_id=who.user_id)
        final = hold.status is not HoldStatus.ACTIVE
    return JSONResponse(
        {"status": payment.status, "final": final},
        headers={"Cache-Control": "no-store"},
    )


@router.get("/payments/{payment_id}/result")
async def payment_result(request: Request, payment_id: UUID) -> Response:
    """The outcome: the booking once confirmed, else what went wrong and what to do."""
    opened = await own_payment(request, payment_id)
    if isinstance(opened, Response):
        return opened
    ctx, who, payment, hold = opened
    if hold.status is HoldStatus.CONFIRMED and hold.booking_id is not None:
        return see_other(f"/bookings/{hold.booking_id}")
    view = await slot_view(ctx, hold.slot_id)
    if hold.status is HoldStatus.ACTIVE:
        # not settled by the deadline, or this payment was replaced: the hold still runs
        return render(request, "not_yet.html", principal=who, payment=payment, hold=hold, view=view)
    reason = "declined" if payment.status is PaymentStatus.FAILED else "expired"
    if payment.status in (PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED):
        reason = "late"
    found = await holds.alternatives_for(ctx, slot_id=hold.slot_id)
    return render(
        request,
        "lost.html",
        principal=who,
        reason=reason,
        view=view,
        offers=await offers(ctx, found),
        retry_same=view.slot.is_bookable(ctx.clock.now()),
    )
