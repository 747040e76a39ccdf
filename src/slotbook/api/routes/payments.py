"""Payments of a hold (role customer, on its own hold): start, read (and wait), returned."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header, Query, Request
from starlette.responses import Response

from slotbook.api import render
from slotbook.api.deps import Ctx, CurrentCustomer
from slotbook.api.idempotency import answer_of, response_of
from slotbook.api.payment_schemas import PaymentIn, PaymentOut
from slotbook.api.routes import documented
from slotbook.domain.gateway import PaymentMethod
from slotbook.domain.model import Principal
from slotbook.domain.payments import Payment
from slotbook.domain.states import PaymentStatus
from slotbook.edge.responses import JSON
from slotbook.service_layer import payments
from slotbook.service_layer.context import Context
from slotbook.service_layer.idempotency import Answer, run_idempotent

router = APIRouter(tags=["payments"])
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)]
Wait = Annotated[
    float, Query(ge=0, le=payments.MAX_WAIT_SECONDS, description="seconds, 10 at most")
]


async def _rendered(ctx: Context, payment: Payment) -> dict[str, object]:
    return render.payment(payment, await payments.refund_of(ctx, payment.id))


@router.post(
    "/v1/holds/{hold_id}/payments",
    status_code=201,
    responses=documented(201, PaymentOut, 401, 403, 404, 409, 422, 502, 503),
)
async def start_payment(
    hold_id: UUID,
    body: PaymentIn,
    request: Request,
    principal: CurrentCustomer,
    ctx: Ctx,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Pay 100% of the hold's price: 201 payment with the gateway's `redirect_url`; a
    new payment cancels the hold's earlier pending ones."""

    async def start(payment_id: UUID | None = None) -> Response:
        payment = await payments.start_payment(
            ctx,
            hold_id=hold_id,
            customer_id=principal.user_id,
            method=PaymentMethod(body.method),
            return_url=str(body.return_url) if body.return_url else None,
            payment_id=payment_id,
            card_token=body.card_token,
        )
        return JSON(await _rendered(ctx, payment), status_code=201)

    if idempotency_key is None:
        return await start()
    answer = await run_idempotent(
        ctx,
        user_id=principal.user_id,
        endpoint=f"POST /v1/holds/{hold_id}/payments",
        key=idempotency_key,
        request_body=await request.body(),
        handle=lambda payment_id: answer_of(start(payment_id)),
        recover=lambda payment_id: _recover(ctx, principal, payment_id, body.card_token),
    )
    return response_of(answer)


async def _recover(
    ctx: Context, principal: Principal, payment_id: UUID, card_token: str | None
) -> Answer | None:
    """The first attempt's payment, finished at the gateway if it stopped half-way (the
    replayed request carries the same card token)."""
    payment = await payments.find_own_payment(
        ctx, payment_id=payment_id, customer_id=principal.user_id
    )
    if payment is None:
        return None
    if payment.status is PaymentStatus.PENDING and payment.gateway_payment_id is None:
        payment = await payments.open_at_gateway(ctx, payment, card_token=card_token)
    return await answer_of(_as_response(ctx, payment, 201))


async def _as_response(ctx: Context, payment: Payment, status: int) -> Response:
    return JSON(await _rendered(ctx, payment), status_code=status)


@router.get("/v1/payments/{payment_id}", responses=documented(200, PaymentOut, 401, 403, 404, 422))
async def get_payment(
    payment_id: UUID, principal: CurrentCustomer, ctx: Ctx, wait: Wait = 0
) -> JSON:
    """The payment; with `wait`, answered the moment its status is final (or after `wait`)."""
    payment = await payments.wait_for_payment(
        ctx, payment_id=payment_id, customer_id=principal.user_id, wait_seconds=wait
    )
    return JSON(await _rendered(ctx, payment))


@router.post(
    "/v1/payments/{payment_id}/returned",
    status_code=202,
    responses=documented(202, PaymentOut, 401, 403, 404, 422),
)
async def payment_returned(payment_id: UUID, principal: CurrentCustomer, ctx: Ctx) -> JSON:
    """The customer is back from the gateway: the confirmation deadline starts."""
    payment = await payments.mark_returned(
        ctx, payment_id=payment_id, customer_id=principal.user_id
    )
    return JSON(await _rendered(ctx, payment), status_code=202)
