"""`StripeGateway`: a Stripe Checkout Session per payment, through the official SDK.

Every call goes through one `StripeClient` (its async httpx client, no SDK retries: the
outbox retries with the same idempotency key) pointed at `SLOTBOOK_STRIPE_API_BASE`. A
session is opened in `payment` mode for one line of the hold's price, `card` or (THB
only) `promptpay`, with the payment id as `client_reference_id` and both ids in the
metadata of the session and of its PaymentIntent. Stripe's own `expires_at` cannot be
under 30 minutes, so slotbook expires the session itself (`cancel_payment`) the moment
its hold is released or another payment replaces it. A connection failure, a timeout, a
5xx or a 429 raises GatewayUnavailable; any other refusal GatewayRefused. Nothing of the
SDK leaves this module and stripe_events.py.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

import stripe

from slotbook.adapters.gateways.stripe_events import parse_stripe_event
from slotbook.config import Settings
from slotbook.domain.errors import GatewayRefused, GatewayUnavailable
from slotbook.domain.gateway import (
    CreatedPayment,
    CreatePayment,
    GatewayEvent,
    GatewayPaymentStatus,
    PaymentMethod,
    PaymentState,
    RefundRequest,
    RefundResult,
    RefundStatus,
)

REFUND_STATUSES = {
    "succeeded": RefundStatus.SUCCEEDED,
    "failed": RefundStatus.FAILED,
    "canceled": RefundStatus.FAILED,
}
# a PaymentIntent in one of these is still on its way (an async method such as PromptPay)
PI_UNDER_WAY = frozenset({"processing", "requires_action", "requires_confirmation"})


class _HTTPXClient(stripe.HTTPXClient):
    """The SDK's httpx client, sending its encoded form as `content` (httpx deprecates
    raw bytes passed as `data`, which the SDK does)."""

    def _get_request_args_kwargs(
        self, method: str, url: str, headers: Mapping[str, str], post_data: Any
    ) -> list[Any]:
        args, kwargs = super()._get_request_args_kwargs(method, url, headers, post_data)
        kwargs.pop("data", None)
        if post_data:
            kwargs["content"] = post_data
        return [args, kwargs]


class StripeGateway:
    """The `PaymentGateway` port over Stripe Checkout."""

    name = "stripe"
    takes_card_token = False
    promptpay_qr_image = False

    def __init__(
        self,
        *,
        secret_key: str,
        webhook_secret: str,
        api_base: str = "https://api.stripe.com",
        timeout_seconds: float = 10.0,
    ) -> None:
        self._http = _HTTPXClient(timeout=timeout_seconds)
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base.rstrip("/")},
            http_client=self._http,
            max_network_retries=0,
        )
        self._webhook_secret = webhook_secret

    @classmethod
    def from_settings(cls, settings: Settings) -> StripeGateway:
        """The adapter for the `SLOTBOOK_STRIPE_*` settings (both keys are checked there)."""
        key, secret = settings.stripe_secret_key, settings.stripe_webhook_secret
        if key is None or secret is None:
            raise ValueError("SLOTBOOK_STRIPE_SECRET_KEY and _WEBHOOK_SECRET are not set")
        return cls(
            secret_key=key,
            webhook_secret=secret,
            api_base=settings.stripe_api_base,
            timeout_seconds=settings.gateway_timeout_seconds,
        )

    async def aclose(self) -> None:
        await self._http.close_async()  # type: ignore[no-untyped-call]

    async def create_payment(self, request: CreatePayment) -> CreatedPayment:
        if request.method is PaymentMethod.PROMPTPAY and request.currency.upper() != "THB":
            raise GatewayRefused("Stripe takes PromptPay in THB only")
        metadata = {"payment_id": str(request.reference)}
        if request.hold_id is not None:
            metadata["hold_id"] = str(request.hold_id)
        params: dict[str, Any] = {
            "mode": "payment",
            "payment_method_types": [request.method.value],
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": request.currency.lower(),
                        "unit_amount": request.amount_minor,
                        "product_data": {"name": request.description},
                    },
                }
            ],
            "client_reference_id": str(request.reference),
            "metadata": metadata,
            "payment_intent_data": {"metadata": metadata},
            "success_url": request.return_url,
            "cancel_url": request.return_url,
        }
        session = await self._call(
            self._client.v1.checkout.sessions.create_async(
                params,  # type: ignore[arg-type]
                {"idempotency_key": request.idempotency_key},
            )
        )
        if not session.url:
            raise GatewayUnavailable("Stripe answered a Checkout Session without its url")
        return CreatedPayment(gateway_payment_id=session.id, redirect_url=session.url)

    async def get_payment(self, gateway_payment_id: str) -> PaymentState:
        session = await self._call(
            self._client.v1.checkout.sessions.retrieve_async(
                gateway_payment_id, {"expand": ["payment_intent"]}
            )
        )
        return session_state(session)

    async def cancel_payment(
        self, gateway_payment_id: str, *, idempotency_key: str
    ) -> PaymentState:
        with contextlib.suppress(GatewayRefused):  # not open: paid, or expired already
            await self._call(
                self._client.v1.checkout.sessions.expire_async(
                    gateway_payment_id, options={"idempotency_key": idempotency_key}
                )
            )
        return await self.get_payment(gateway_payment_id)

    async def refund(self, request: RefundRequest) -> RefundResult:
        session = await self._call(
            self._client.v1.checkout.sessions.retrieve_async(request.gateway_payment_id)
        )
        intent = session.payment_intent
        intent_id = intent if isinstance(intent, str) else getattr(intent, "id", None)
        if not intent_id:
            raise GatewayRefused("the Checkout Session has no PaymentIntent to refund")
        params: dict[str, Any] = {"payment_intent": intent_id, "amount": request.amount_minor}
        if request.reference is not None:  # its refund.* events name our payment
            params["metadata"] = {"payment_id": str(request.reference)}
        refund = await self._call(
            self._client.v1.refunds.create_async(
                params,  # type: ignore[arg-type]
                {"idempotency_key": request.idempotency_key},
            )
        )
        if refund.status not in REFUND_STATUSES:
            # a replay answers the first response again: ask for the refund as it is now
            refund = await self._call(self._client.v1.refunds.retrieve_async(refund.id))
        return RefundResult(
            gateway_refund_id=refund.id,
            status=REFUND_STATUSES.get(refund.status or "", RefundStatus.PENDING),
        )

    def parse_webhook(
        self, headers: Mapping[str, str], body: bytes, *, now: datetime
    ) -> GatewayEvent:
        return parse_stripe_event(self._webhook_secret, headers, body, now=now)

    async def _call(self, pending: Any) -> Any:
        try:
            return await pending
        except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
            raise GatewayUnavailable(f"Stripe unreachable: {type(exc).__name__}") from exc
        except stripe.StripeError as exc:
            said = f"{exc.http_status} {exc.code or type(exc).__name__}: {exc.user_message or ''}"
            if exc.http_status is None or exc.http_status >= 500:
                raise GatewayUnavailable(f"Stripe answered {said[:200]}") from exc
            raise GatewayRefused(f"Stripe refused: {said[:200]}") from exc


def session_state(session: Any) -> PaymentState:
    """A Checkout Session (its PaymentIntent expanded, or not) as a payment state."""
    intent = session.payment_intent
    intent_status = getattr(intent, "status", None) if not isinstance(intent, str) else None
    if session.payment_status == "paid" or intent_status == "succeeded":
        status = GatewayPaymentStatus.SUCCEEDED
    elif session.status == "expired":
        status = GatewayPaymentStatus.CANCELLED
    elif session.status == "complete":
        # completed but unpaid: an async method, still on its way or failed
        under_way = intent_status is None or intent_status in PI_UNDER_WAY
        status = GatewayPaymentStatus.PENDING if under_way else GatewayPaymentStatus.FAILED
    else:
        status = GatewayPaymentStatus.PENDING
    return PaymentState(
        gateway_payment_id=session.id,
        status=status,
        amount_minor=int(session.amount_total or 0),
        currency=str(session.currency or "").upper(),
        reference=_uuid(session.client_reference_id),
    )


def _uuid(value: object) -> UUID | None:
    try:
        return UUID(str(value))
    except ValueError:
        return None
