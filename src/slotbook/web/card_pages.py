"""Pages slotbook shows where a gateway has no hosted page of its own (Omise): the card
page, whose Omise.js turns the card into a one-use token in the customer's browser (the
card never reaches slotbook: its fields have no `name`, only the token is posted), and
the PromptPay page showing the charge's QR image while it waits for the payment."""

from __future__ import annotations

import re
from uuid import UUID

from fastapi import APIRouter, Request
from starlette.responses import Response

from slotbook.domain.gateway import PaymentMethod
from slotbook.domain.holds import Hold
from slotbook.domain.model import Principal
from slotbook.domain.states import FINAL_PAYMENT_STATUSES, HoldStatus
from slotbook.service_layer.context import Context
from slotbook.web.describe import slot_view
from slotbook.web.loading import own_hold, own_payment
from slotbook.web.pages import render, see_other

router = APIRouter(include_in_schema=False)
CARD_TOKEN = re.compile(r"\w{1,128}")


def needs_card_page(ctx: Context, method: PaymentMethod) -> bool:
    """A card payment whose gateway charges a token made by its card form."""
    return method is PaymentMethod.CARD and ctx.gateways.for_method(method).takes_card_token


def shows_qr_page(ctx: Context, method: PaymentMethod) -> bool:
    """A PromptPay payment whose gateway gives a QR image instead of a hosted page."""
    return method is PaymentMethod.PROMPTPAY and ctx.gateways.for_method(method).promptpay_qr_image


async def card_page(
    request: Request,
    ctx: Context,
    who: Principal,
    hold: Hold,
    *,
    problem: str | None = None,
    status_code: int = 200,
) -> Response:
    """The card form of a live hold, with what went wrong with the last card, if anything."""
    remaining = hold.seconds_left(ctx.clock.now())
    return render(
        request,
        "card.html",
        status_code,
        principal=who,
        hold=hold,
        view=await slot_view(ctx, hold.slot_id),
        remaining=remaining,
        problem=problem,
        omise_public_key=ctx.settings.omise_public_key or "",
        omise_js_url=ctx.settings.omise_js_url,
    )


@router.get("/holds/{hold_id}/card")
async def card(request: Request, hold_id: UUID) -> Response:
    """The card form, while the hold is live; the hold's own page otherwise."""
    opened = await own_hold(request, hold_id)
    if isinstance(opened, Response):
        return opened
    ctx, who, hold = opened
    if hold.status is not HoldStatus.ACTIVE or not needs_card_page(ctx, PaymentMethod.CARD):
        return see_other(f"/holds/{hold_id}")
    return await card_page(request, ctx, who, hold)


@router.get("/payments/{payment_id}/qr")
async def promptpay_qr(request: Request, payment_id: UUID) -> Response:
    """The PromptPay QR to scan, the time left, and a wait for the payment's outcome."""
    opened = await own_payment(request, payment_id)
    if isinstance(opened, Response):
        return opened
    ctx, who, payment, hold = opened
    if payment.status in FINAL_PAYMENT_STATUSES or hold.status is not HoldStatus.ACTIVE:
        return see_other(f"/payments/{payment_id}/result")
    shown_here = ctx.gateways.named(payment.gateway).promptpay_qr_image
    if payment.method is not PaymentMethod.PROMPTPAY or not payment.redirect_url or not shown_here:
        return see_other(f"/holds/{hold.id}")  # paid on the gateway's own page, if at all
    remaining = hold.seconds_left(ctx.clock.now())
    return render(
        request,
        "promptpay_qr.html",
        principal=who,
        payment=payment,
        hold=hold,
        view=await slot_view(ctx, hold.slot_id),
        remaining=remaining,
    )
