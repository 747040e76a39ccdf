"""`SandboxGateway`: slotbook's client of the sandbox gateway's merchant API (httpx).

A connection failure, a timeout, a 5xx or a 429 raises GatewayUnavailable (a retry with
the same idempotency key is safe); any other 4xx raises GatewayRefused. Either names the
status and the `code` and `detail` of the gateway's problem+json answer. An answer that
cannot be read counts as unavailable: the call may have taken effect, and only a retry
with the same key can tell. Every changing call sends the request's idempotency key as
the `Idempotency-Key` header. Nothing from httpx leaves this module.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote
from uuid import UUID

import httpx
from standardwebhooks import Webhook

from slotbook.adapters.gateways.sandbox_events import parse_event
from slotbook.adapters.gateways.standard_webhooks import verified_body
from slotbook.adapters.local_secrets import Secrets
from slotbook.config import Settings
from slotbook.domain.errors import GatewayRefused, GatewayUnavailable
from slotbook.domain.gateway import (
    CreatedPayment,
    CreatePayment,
    GatewayEvent,
    GatewayPaymentStatus,
    PaymentState,
    RefundRequest,
    RefundResult,
    RefundStatus,
)

T = TypeVar("T")
RETRYABLE_4XX = frozenset({408, 425, 429})


class SandboxGateway:
    """The `PaymentGateway` port over the sandbox's HTTP API."""

    name = "sandbox"
    takes_card_token = False
    promptpay_qr_image = False

    def __init__(
        self,
        *,
        base_url: str,
        webhook_secret: str,
        timeout_seconds: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + "/",
            timeout=httpx.Timeout(timeout_seconds),
            follow_redirects=False,
            trust_env=False,
            transport=transport,
            headers={"user-agent": "slotbook"},
        )
        self._signer = Webhook(webhook_secret)

    @classmethod
    def from_settings(cls, settings: Settings, secrets: Secrets) -> SandboxGateway:
        """The adapter for `SLOTBOOK_SANDBOX_GATEWAY_URL`, verifying with the resolved
        webhook secret."""
        return cls(
            base_url=settings.sandbox_gateway_url,
            webhook_secret=secrets.sandbox_webhook_secret,
            timeout_seconds=settings.sandbox_gateway_timeout_seconds,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def create_payment(self, request: CreatePayment) -> CreatedPayment:
        body = {
            "reference": str(request.reference),
            "amount_minor": request.amount_minor,
            "currency": request.currency,
            "method": request.method.value,
            "description": request.description,
            "return_url": request.return_url,
            "notify_url": request.notify_url,
            "expires_at": request.expires_at.isoformat(),
        }
        answer = await self._call("POST", "payments", json=body, key=request.idempotency_key)
        return _read(answer, lambda d: CreatedPayment(str(d["id"]), str(d["redirect_url"])))

    async def get_payment(self, gateway_payment_id: str) -> PaymentState:
        answer = await self._call("GET", f"payments/{quote(gateway_payment_id, safe='')}")
        return _read(answer, _payment_state)

    async def cancel_payment(
        self, gateway_payment_id: str, *, idempotency_key: str
    ) -> PaymentState:
        path = f"payments/{quote(gateway_payment_id, safe='')}/cancel"
        answer = await self._call("POST", path, key=idempotency_key)
        return _read(answer, _payment_state)

    async def refund(self, request: RefundRequest) -> RefundResult:
        path = f"payments/{quote(request.gateway_payment_id, safe='')}/refunds"
        body = {"amount_minor": request.amount_minor, "currency": request.currency}
        answer = await self._call("POST", path, json=body, key=request.idempotency_key)
        return _read(answer, lambda d: RefundResult(str(d["id"]), RefundStatus(d["status"])))

    def parse_webhook(
        self, headers: Mapping[str, str], body: bytes, *, now: datetime
    ) -> GatewayEvent:
        event_id, text = verified_body(self._signer, headers, body, now=now)
        return parse_event(event_id, text)

    async def _call(
        self, method: str, path: str, *, json: Any = None, key: str | None = None
    ) -> httpx.Response:
        headers = {"Idempotency-Key": key} if key is not None else {}
        try:
            answer = await self._client.request(method, path, json=json, headers=headers)
        except httpx.HTTPError as exc:
            raise GatewayUnavailable(f"sandbox gateway unreachable: {type(exc).__name__}") from exc
        status = answer.status_code
        if status >= 500 or status in RETRYABLE_4XX:
            raise GatewayUnavailable(f"sandbox gateway answered {_problem_of(answer)}")
        if status >= 400:
            raise GatewayRefused(f"sandbox gateway refused: {_problem_of(answer)}")
        return answer


def _read(answer: httpx.Response, build: Callable[[dict[str, Any]], T]) -> T:
    try:
        data = answer.json()
        if not isinstance(data, dict):
            raise TypeError("not an object")
        return build(data)
    except (ValueError, KeyError, TypeError) as exc:
        raise GatewayUnavailable(f"unreadable sandbox gateway answer: {exc}") from exc


def _payment_state(data: dict[str, Any]) -> PaymentState:
    reference: UUID | None
    try:
        reference = UUID(str(data.get("reference")))
    except ValueError:
        reference = None
    amount = data["amount_minor"]
    if not isinstance(amount, int):
        raise TypeError("amount_minor is not an integer")
    return PaymentState(
        gateway_payment_id=str(data["id"]),
        status=GatewayPaymentStatus(data["status"]),
        amount_minor=amount,
        currency=str(data["currency"]),
        reference=reference,
    )


def _problem_of(answer: httpx.Response) -> str:
    """`409 payment_already_settled: <detail>` from a problem+json answer; the status and
    the start of the text from anything else (a proxy's page, say)."""
    try:
        body = answer.json()
        said = f"{body['code']}: {body['detail']}"
    except (ValueError, KeyError, TypeError):
        said = answer.text[:200] or answer.reason_phrase
    return f"{answer.status_code} {said[:200]}"
