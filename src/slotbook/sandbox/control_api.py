"""Control calls for tests and demos: settle a payment as the bank would, shape its
webhooks, see what was delivered, and take the merchant API down and back up.

These stand for what happens outside the merchant's reach, so the merchant API's switch
never affects them.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from slotbook.sandbox.deps import running
from slotbook.sandbox.schemas import (
    SandboxComplete,
    SandboxEvent,
    SandboxEvents,
    SandboxMerchantApi,
    SandboxPayment,
    refusals,
)

router = APIRouter(tags=["sandbox: control"])


@router.post("/payments/{payment_id}/complete", responses=refusals(404, 409, 422))
async def complete_payment(
    payment_id: str, body: SandboxComplete, request: Request
) -> SandboxPayment:
    """Settle a payment not settled yet, even one the merchant cancelled (its money moved
    just before the cancellation arrived); `webhook` shapes the delivery of its event.
    409 `payment_already_settled`: it was settled before."""
    sandbox = await running(request)
    shaping = body.webhook.shaping() if body.webhook else None
    payment = await sandbox.settle(payment_id, body.outcome, shaping)
    _, refunds = await sandbox.payment(payment_id)
    return SandboxPayment.of(payment, refunds)


@router.get("/payments/{payment_id}/events", responses=refusals(404))
async def payment_events(payment_id: str, request: Request) -> SandboxEvents:
    """The payment's events and every delivery of each: status, attempts, last answer."""
    sandbox = await running(request)
    found = await sandbox.events(payment_id)
    return SandboxEvents(events=[SandboxEvent.model_validate(e) for e in found])


@router.get("/control/merchant-api", responses=refusals())
async def merchant_api_mode(request: Request) -> SandboxMerchantApi:
    sandbox = await running(request)
    return SandboxMerchantApi(mode=await sandbox.merchant_api_mode())


@router.put("/control/merchant-api", responses=refusals(422))
async def set_merchant_api_mode(body: SandboxMerchantApi, request: Request) -> SandboxMerchantApi:
    """`up`; `down`: every merchant call answers 503 and does nothing; `lose_answers`:
    every merchant call does its work, then answers 503 (the answer lost on the way)."""
    sandbox = await running(request)
    await sandbox.set_merchant_api_mode(body.mode)
    return body


@router.get("/healthz", responses=refusals())
async def healthz(request: Request) -> dict[str, str]:
    """200 once the gateway's file answers."""
    sandbox = await running(request)
    await sandbox.merchant_api_mode()
    return {"status": "ok"}
