"""The merchant API: what a shop's server calls (slotbook's `SandboxGateway` adapter).

Changing calls take an `Idempotency-Key`: the same key returns the same payment or
refund (answered 200 instead of 201), the same key with another request answers 422.
Cancelling is idempotent by itself: it answers the payment as it stands, `succeeded` when
the customer paid first.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from slotbook.sandbox.deps import IdempotencyKey, merchant_call, required, running
from slotbook.sandbox.runtime import NewPayment
from slotbook.sandbox.schemas import (
    SandboxCreatePayment,
    SandboxPayment,
    SandboxRefund,
    SandboxRefundRequest,
    refusals,
)

router = APIRouter(tags=["sandbox: merchant API"])
REPLAYED = "Idempotent-Replayed"
REPLAY = "The same Idempotency-Key again: the first answer (Idempotent-Replayed: true)"


@router.post(
    "/payments",
    status_code=status.HTTP_201_CREATED,
    responses={**refusals(400, 422), 200: {"model": SandboxPayment, "description": REPLAY}},
)
async def create_payment(
    body: SandboxCreatePayment,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> SandboxPayment:
    """Start a payment; the customer pays it on `redirect_url`."""
    key = required(idempotency_key)
    sandbox = await running(request)
    new = NewPayment(
        **{
            **body.model_dump(),
            "return_url": str(body.return_url),
            "notify_url": str(body.notify_url),
        }
    )

    def redirect_for(payment_id: str) -> str:
        return str(request.url_for("hosted_page", payment_id=payment_id))

    payment, created = await merchant_call(
        sandbox, lambda: sandbox.create_payment(new, key=key, redirect_for=redirect_for)
    )
    if not created:
        response.status_code = status.HTTP_200_OK
        response.headers[REPLAYED] = "true"
    return SandboxPayment.of(payment, [])


@router.get("/payments/{payment_id}", responses=refusals(404))
async def get_payment(payment_id: str, request: Request) -> SandboxPayment:
    """The payment as the gateway sees it now, with its refunds."""
    sandbox = await running(request)
    payment, refunds = await merchant_call(sandbox, lambda: sandbox.payment(payment_id))
    return SandboxPayment.of(payment, refunds)


@router.post("/payments/{payment_id}/cancel", responses=refusals(404))
async def cancel_payment(payment_id: str, request: Request) -> SandboxPayment:
    """Withdraw a pending payment; a settled one answers its state (the race)."""
    sandbox = await running(request)
    payment = await merchant_call(sandbox, lambda: sandbox.cancel(payment_id))
    _, refunds = await sandbox.payment(payment_id)
    return SandboxPayment.of(payment, refunds)


@router.post(
    "/payments/{payment_id}/refunds",
    status_code=status.HTTP_201_CREATED,
    responses={
        **refusals(400, 404, 409, 422),
        200: {"model": SandboxRefund, "description": REPLAY},
    },
)
async def refund_payment(
    payment_id: str,
    body: SandboxRefundRequest,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> SandboxRefund:
    """Give back (part of) a succeeded payment; a `refund.succeeded` webhook follows."""
    key = required(idempotency_key)
    sandbox = await running(request)
    refund, created = await merchant_call(
        sandbox,
        lambda: sandbox.refund(
            payment_id, amount_minor=body.amount_minor, currency=body.currency, key=key
        ),
    )
    if not created:
        response.status_code = status.HTTP_200_OK
        response.headers[REPLAYED] = "true"
    return SandboxRefund.of(refund)
