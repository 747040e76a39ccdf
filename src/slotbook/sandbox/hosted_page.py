"""The hosted payment page a customer is redirected to: card or PromptPay.

Paying here settles the payment exactly as the control call `complete` does, then sends
the customer back to the payment's `return_url` (303). A payment that was settled,
cancelled by the merchant, or has expired shows that state and takes no payment (409).

A browser (its `Accept` names text/html) is shown the page whatever the answer; any other
client gets the refusals (404, 409, 422) as problem+json, as from every sandbox call.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, PackageLoader, select_autoescape

from slotbook.domain.gateway import PaymentMethod
from slotbook.sandbox import promptpay
from slotbook.sandbox.deps import running
from slotbook.sandbox.errors import AlreadySettled, NotPayable, SandboxError, UnknownPayment
from slotbook.sandbox.model import Outcome, PaymentRecord
from slotbook.sandbox.paying import amount_text, card_outcome, page_state
from slotbook.sandbox.runtime import Sandbox
from slotbook.sandbox.schemas import refusals

router = APIRouter(tags=["sandbox: hosted page"], default_response_class=HTMLResponse)
templates = Jinja2Templates(
    env=Environment(
        loader=PackageLoader("slotbook.sandbox", "templates"), autoescape=select_autoescape()
    )
)
FormText = Annotated[str, Form(max_length=64)]
PAID: dict[int | str, dict[str, Any]] = {
    303: {"description": "Paid or declined: back to the payment's return_url"}
}


@router.get("/pay/{payment_id}", name="hosted_page", responses=refusals(404))
async def hosted_page(payment_id: str, request: Request) -> Response:
    """The page: the amount, the merchant, and the way to pay (or the payment's state)."""
    sandbox = await running(request)
    if await _find(sandbox, payment_id) is None:
        return await _refuse(
            request, sandbox, payment_id, UnknownPayment(f"no payment {payment_id}")
        )
    return await _render(request, sandbox, payment_id)


@router.post(
    "/pay/{payment_id}/card", name="pay_by_card", responses={**PAID, **refusals(404, 409, 422)}
)
async def pay_by_card(
    payment_id: str,
    request: Request,
    card_number: FormText = "",
    expiry: FormText = "",
    cvc: FormText = "",
) -> Response:
    """Pay with a test card: 4242 4242 4242 4242 succeeds, 4000 0000 0000 0002 declines."""
    sandbox = await running(request)
    refused = await _refusal(sandbox, payment_id, PaymentMethod.CARD)
    if refused is None:
        outcome = card_outcome(card_number, expiry, cvc)
        if isinstance(outcome, Outcome):
            return await _settle(request, sandbox, payment_id, outcome)
        refused = outcome  # what is wrong; the form kept but the code
    typed = {"card_number": card_number, "expiry": expiry}
    return await _refuse(request, sandbox, payment_id, refused, typed=typed)


@router.post(
    "/pay/{payment_id}/promptpay",
    name="pay_by_promptpay",
    responses={**PAID, **refusals(404, 409, 422)},
)
async def pay_by_promptpay(
    payment_id: str,
    request: Request,
    result: Annotated[Literal["paid", "not_paid"], Form()],
) -> Response:
    """Play the bank's answer to the scanned QR: paid, or not paid."""
    sandbox = await running(request)
    refused = await _refusal(sandbox, payment_id, PaymentMethod.PROMPTPAY)
    if refused is not None:
        return await _refuse(request, sandbox, payment_id, refused)
    outcome = Outcome.SUCCEEDED if result == "paid" else Outcome.DECLINED
    return await _settle(request, sandbox, payment_id, outcome)


@router.get(
    "/pay/{payment_id}/qr.png",
    name="promptpay_qr",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}, **refusals(404)},
)
async def promptpay_qr(payment_id: str, request: Request) -> Response:
    """The dynamic PromptPay QR of the payment's exact amount, as a PNG."""
    sandbox = await running(request)
    payment, _ = await sandbox.payment(payment_id)
    if payment.method is not PaymentMethod.PROMPTPAY:
        raise UnknownPayment(f"payment {payment_id} is not a PromptPay payment")
    text = promptpay.payload(sandbox.config.promptpay_id, payment.amount_minor)
    png = promptpay.qr_png(text)
    return Response(png, media_type="image/png", headers={"cache-control": "no-store"})


async def _refusal(sandbox: Sandbox, payment_id: str, method: PaymentMethod) -> SandboxError | None:
    """Why this payment cannot be paid this way now, if it cannot."""
    payment = await _find(sandbox, payment_id)
    if payment is None or payment.method is not method:
        return UnknownPayment(f"no {method.value} payment {payment_id}")
    state = page_state(payment, sandbox.clock.now())
    if state != "payable":
        return NotPayable(f"payment {payment_id} is {state}")
    return None


async def _settle(
    request: Request, sandbox: Sandbox, payment_id: str, outcome: Outcome
) -> Response:
    """Settle as `complete` does, then send the customer back to the merchant."""
    try:
        payment = await sandbox.settle(payment_id, outcome)
    except AlreadySettled as exc:  # paid in another tab a moment ago
        return await _refuse(request, sandbox, payment_id, exc)
    return RedirectResponse(payment.return_url, status_code=303)


async def _refuse(
    request: Request,
    sandbox: Sandbox,
    payment_id: str,
    refused: SandboxError,
    *,
    typed: dict[str, str] | None = None,
) -> Response:
    """The page with the refusal's status for a browser; its problem for anyone else."""
    if "text/html" not in request.headers.get("accept", ""):
        raise refused
    error = refused.message if refused.status == 422 else None
    return await _render(
        request, sandbox, payment_id, error=error, typed=typed, status_code=refused.status
    )


async def _find(sandbox: Sandbox, payment_id: str) -> PaymentRecord | None:
    try:
        payment, _ = await sandbox.payment(payment_id)
    except UnknownPayment:
        return None
    return payment


async def _render(
    request: Request,
    sandbox: Sandbox,
    payment_id: str,
    *,
    error: str | None = None,
    typed: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    payment = await _find(sandbox, payment_id)
    context = {
        "merchant": sandbox.config.merchant_name,
        "payment": payment,
        "error": error,
        "typed": typed or {},
    }
    if payment is None:
        context["state"] = "unknown"
        return templates.TemplateResponse(request, "pay.html", context, status_code=404)
    context |= {
        "state": page_state(payment, sandbox.clock.now()),
        "amount": amount_text(payment.amount_minor, payment.currency),
        "promptpay_id": sandbox.config.promptpay_id,
    }
    return templates.TemplateResponse(request, "pay.html", context, status_code=status_code)
