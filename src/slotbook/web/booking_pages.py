"""Booking in a browser: hold a slot, pay at the gateway's hosted page, come back to a
page that waits for the confirmation; alternatives whenever the slot is lost."""

from __future__ import annotations

import uuid
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from slotbook.domain import errors as e
from slotbook.domain.gateway import PaymentMethod
from slotbook.domain.model import Role
from slotbook.domain.states import HoldStatus, PaymentStatus
from slotbook.service_layer import holds, payments
from slotbook.web import card_pages
from slotbook.web.describe import offers, slot_view
from slotbook.web.loading import own_hold
from slotbook.web.pages import ctx_of, not_found, render, see_other, to_login
from slotbook.web.session import check_form, principal_of

router = APIRouter(include_in_schema=False)
Field = Annotated[str, Form()]


@router.post("/book")
async def book(request: Request, slot_id: Annotated[UUID, Form()], csrf: Field) -> Response:
    """One click: a new hold on the slot, or the alternatives when it is not free."""
    check_form(request, csrf)
    ctx = ctx_of(request)
    who = principal_of(ctx, request)
    try:
        view = await slot_view(ctx, slot_id)
    except e.NotFound:
        return not_found(request, who)
    if who is None:
        return to_login(request, f"/providers/{view.provider.id}")
    if who.role is not Role.CUSTOMER:
        return render(request, "message.html", 403, principal=who, message="customers-only")
    try:
        placed = await holds.place_hold(ctx, slot_id=slot_id, customer_id=who.user_id)
    except e.SlotUnavailable as exc:
        return render(
            request,
            "lost.html",
            409,
            principal=who,
            reason="taken",
            view=view,
            offers=await offers(ctx, exc.suggestions),
        )
    return see_other(f"/holds/{placed.hold.id}")


@router.get("/holds/{hold_id}")
async def hold_page(request: Request, hold_id: UUID) -> Response:
    """The live hold with its countdown, price and payment methods; once lost, why and
    the alternatives; once confirmed, the booking."""
    opened = await own_hold(request, hold_id)
    if isinstance(opened, Response):
        return opened
    ctx, who, hold = opened
    if hold.status is HoldStatus.CONFIRMED and hold.booking_id is not None:
        return see_other(f"/bookings/{hold.booking_id}")
    view = await slot_view(ctx, hold.slot_id)
    if hold.status is not HoldStatus.ACTIVE:
        reason = str(hold.release_reason or "expired")
        found = await holds.alternatives_for(ctx, slot_id=hold.slot_id)
        return render(
            request,
            "lost.html",
            200,
            principal=who,
            reason=reason,
            view=view,
            offers=await offers(ctx, found),
        )
    paid = await payments.payments_of_hold(ctx, hold.id)
    pending = [p for p, _ in paid if p.status is PaymentStatus.PENDING]
    remaining = hold.seconds_left(ctx.clock.now())
    return render(
        request,
        "hold.html",
        principal=who,
        hold=hold,
        view=view,
        remaining=remaining,
        pending=pending[-1] if pending else None,
        methods=list(PaymentMethod),
    )


@router.post("/holds/{hold_id}/pay")
async def pay(
    request: Request,
    hold_id: UUID,
    method: Field,
    csrf: Field,
    card_token: Annotated[str | None, Form()] = None,
) -> Response:
    """Start (or switch to) a payment by `method`: off to the gateway's hosted page (or
    first to slotbook's card page, where the gateway charges a card token)."""
    check_form(request, csrf)
    ctx = ctx_of(request)
    who = principal_of(ctx, request)
    if who is None:
        return to_login(request, f"/holds/{hold_id}")
    if method not in {m.value for m in PaymentMethod}:
        return see_other(f"/holds/{hold_id}")
    chosen = PaymentMethod(method)
    if not card_pages.needs_card_page(ctx, chosen):
        card_token = None
    elif not card_token:
        return see_other(f"/holds/{hold_id}/card")  # also without JavaScript: no token made
    elif not card_pages.CARD_TOKEN.fullmatch(card_token):
        return await _card_problem(request, hold_id, "card-unreadable")
    payment_id = uuid.uuid4()
    back = f"{ctx.settings.public_url.rstrip('/')}/payments/{payment_id}/back"
    try:
        payment = await payments.start_payment(
            ctx,
            hold_id=hold_id,
            customer_id=who.user_id,
            method=chosen,
            return_url=back,
            payment_id=payment_id,
            card_token=card_token,
        )
    except e.HoldNotActive:
        return see_other(f"/holds/{hold_id}")
    except e.HoldNotFound:
        return not_found(request, who)
    except e.HoldNotPayable:
        return render(request, "message.html", 409, principal=who, message="not-payable")
    except e.GatewayRefused:
        if card_token is not None:  # the card was declined or refused: try another
            return await _card_problem(request, hold_id, "card-refused")
        return render(request, "message.html", 503, principal=who, message="gateway-down")
    except e.GatewayUnavailable:
        return render(request, "message.html", 503, principal=who, message="gateway-down")
    if card_pages.shows_qr_page(ctx, chosen):
        return see_other(f"/payments/{payment.id}/qr")
    assert payment.redirect_url is not None
    return see_other(payment.redirect_url)


async def _card_problem(request: Request, hold_id: UUID, problem: str) -> Response:
    """The card page again, saying what was wrong with the card (the hold still runs)."""
    ctx = ctx_of(request)
    who = principal_of(ctx, request)
    assert who is not None
    try:
        hold = await holds.get_hold(ctx, hold_id=hold_id, customer_id=who.user_id)
    except e.HoldNotFound:
        return not_found(request, who)
    if hold.status is not HoldStatus.ACTIVE:
        return see_other(f"/holds/{hold_id}")
    return await card_pages.card_page(request, ctx, who, hold, problem=problem, status_code=422)


@router.post("/holds/{hold_id}/cancel")
async def cancel(request: Request, hold_id: UUID, csrf: Field) -> Response:
    check_form(request, csrf)
    ctx = ctx_of(request)
    who = principal_of(ctx, request)
    if who is None:
        return to_login(request, f"/holds/{hold_id}")
    try:
        hold = await holds.cancel_hold(ctx, hold_id=hold_id, customer_id=who.user_id)
    except e.HoldNotFound:
        return not_found(request, who)
    except e.HoldNotActive:
        return see_other(f"/holds/{hold_id}")
    view = await slot_view(ctx, hold.slot_id)
    return see_other(f"/providers/{view.provider.id}")
