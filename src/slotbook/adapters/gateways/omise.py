"""`OmiseGateway`: Omise (Opn Payments) charges over its REST API, with httpx.

Not through the `omise` package (0.16.0): it keeps the keys and base URL in module
globals, calls `requests` synchronously (it would block the event loop) with no timeout at
all (a provider that hangs would hang the worker for ever), and reads every answer as
JSON, so a proxy's 502 page escapes as a decoding error. The REST API it wraps is small
and documented: `POST /charges`, `GET /charges/{id}`, `POST /charges/{id}/refunds`, HTTP
Basic with the secret key, `Omise-Version`. Every change carries an `Idempotency-Key`, but
Omise documents none: a refund is made once per key by looking for it among the charge's
refunds first (its key in their metadata); a charge retried after a lost answer may be
made twice, each carrying our payment id, and a success of the one slotbook did not keep
is a duplicate payment, refunded like any other.

- card: a charge from a card token (made in the customer's browser by Omise.js) with
  `return_uri`; the customer is sent to its `authorize_uri` (3-D Secure);
- PromptPay: a charge with a `promptpay` source; the customer is shown the QR image of
  `source.scannable_code.image.download_uri`.

Omise has no way to withdraw a charge whose QR was shown or whose 3-D Secure page is open,
so `cancel_payment` only reads its state: a success that lands after its hold was
released follows the late-payment rule (refunded, or booked if the slot is still free).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote
from uuid import UUID

import httpx

from slotbook.adapters.gateways.omise_events import parse_omise_event
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

API_VERSION = "2019-05-29"
RETRYABLE_4XX = frozenset({408, 425, 429})
CHARGE_STATUSES = {
    "successful": GatewayPaymentStatus.SUCCEEDED,
    "failed": GatewayPaymentStatus.FAILED,
    "expired": GatewayPaymentStatus.CANCELLED,
    "reversed": GatewayPaymentStatus.CANCELLED,
    "pending": GatewayPaymentStatus.PENDING,
}


class OmiseGateway:
    """The `PaymentGateway` port over Omise's charges API."""

    name = "omise"
    takes_card_token = True
    promptpay_qr_image = True

    def __init__(
        self,
        *,
        secret_key: str,
        webhook_secret: str,
        api_base: str = "https://api.omise.co",
        timeout_seconds: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._client = httpx.AsyncClient(
            base_url=api_base.rstrip("/") + "/",
            auth=(secret_key, ""),
            timeout=httpx.Timeout(timeout_seconds),
            follow_redirects=False,
            trust_env=False,
            transport=transport,
            headers={"user-agent": "slotbook", "Omise-Version": API_VERSION},
        )
        self._webhook_secret = webhook_secret

    @classmethod
    def from_settings(cls, settings: Settings) -> OmiseGateway:
        """The adapter for the `SLOTBOOK_OMISE_*` settings (both keys are checked there)."""
        key, secret = settings.omise_secret_key, settings.omise_webhook_secret
        if key is None or secret is None:
            raise ValueError("SLOTBOOK_OMISE_SECRET_KEY and _WEBHOOK_SECRET are not set")
        return cls(
            secret_key=key,
            webhook_secret=secret,
            api_base=settings.omise_api_base,
            timeout_seconds=settings.gateway_timeout_seconds,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def create_payment(self, request: CreatePayment) -> CreatedPayment:
        body: dict[str, Any] = {
            "amount": request.amount_minor,
            "currency": request.currency.lower(),
            "description": request.description,
            "return_uri": request.return_url,
            "metadata": {"payment_id": str(request.reference)}
            | ({"hold_id": str(request.hold_id)} if request.hold_id else {}),
        }
        if request.method is PaymentMethod.PROMPTPAY:
            body["source"] = {"type": "promptpay"}
        elif request.card_token:
            body["card"] = request.card_token
        else:
            raise GatewayRefused("an Omise card payment needs the card token made by Omise.js")
        charge = await self._call("POST", "charges", json=body, key=request.idempotency_key)
        if charge.get("status") == "failed":
            said = f"{charge.get('failure_code')}: {charge.get('failure_message')}"
            raise GatewayRefused(f"Omise declined the charge: {said[:200]}")
        return CreatedPayment(str(charge["id"]), _redirect_of(charge, request))

    async def get_payment(self, gateway_payment_id: str) -> PaymentState:
        charge = await self._call("GET", f"charges/{quote(gateway_payment_id, safe='')}")
        return charge_state(charge)

    async def cancel_payment(
        self, gateway_payment_id: str, *, idempotency_key: str
    ) -> PaymentState:
        return await self.get_payment(gateway_payment_id)  # nothing to withdraw at Omise

    async def refund(self, request: RefundRequest) -> RefundResult:
        """Refund once per key: Omise documents no idempotency keys, so the charge's own
        refunds are searched for one made with this key before a new one is asked for."""
        charge_path = f"charges/{quote(request.gateway_payment_id, safe='')}"
        charge = await self._call("GET", charge_path)
        refund = _refund_made_with(charge, request.idempotency_key)
        if refund is None:
            body = {
                "amount": request.amount_minor,
                "metadata": {"idempotency_key": request.idempotency_key},
            }
            path = f"{charge_path}/refunds"
            refund = await self._call("POST", path, json=body, key=request.idempotency_key)
        status = {"pending": RefundStatus.PENDING, "failed": RefundStatus.FAILED}.get(
            str(refund.get("status")), RefundStatus.SUCCEEDED
        )
        return RefundResult(gateway_refund_id=str(refund["id"]), status=status)

    def parse_webhook(
        self, headers: Mapping[str, str], body: bytes, *, now: datetime
    ) -> GatewayEvent:
        return parse_omise_event(self._webhook_secret, headers, body, now=now)

    async def _call(
        self, method: str, path: str, *, json: Any = None, key: str | None = None
    ) -> dict[str, Any]:
        headers = {"Idempotency-Key": key} if key is not None else {}
        try:
            answer = await self._client.request(method, path, json=json, headers=headers)
        except httpx.HTTPError as exc:
            raise GatewayUnavailable(f"Omise unreachable: {type(exc).__name__}") from exc
        try:
            data = answer.json()
            if not isinstance(data, dict):
                raise TypeError("not an object")
        except (ValueError, TypeError):
            data = {}
        status = answer.status_code
        if status >= 500 or status in RETRYABLE_4XX or not data:
            raise GatewayUnavailable(f"Omise answered {status} {_said(data, answer)}")
        if status >= 400 or data.get("object") == "error":
            raise GatewayRefused(f"Omise refused: {status} {_said(data, answer)}")
        if "id" not in data:
            raise GatewayUnavailable("unreadable Omise answer: no id")
        return data


def charge_state(charge: Mapping[str, Any]) -> PaymentState:
    """An Omise charge as a payment state (its `metadata.payment_id` is the reference)."""
    amount = charge.get("amount")
    if not isinstance(amount, int):
        raise GatewayUnavailable("unreadable Omise charge: no integer amount")
    metadata = charge.get("metadata") or {}
    return PaymentState(
        gateway_payment_id=str(charge["id"]),
        status=CHARGE_STATUSES.get(str(charge.get("status")), GatewayPaymentStatus.PENDING),
        amount_minor=amount,
        currency=str(charge.get("currency") or "").upper(),
        reference=_uuid(metadata.get("payment_id") if isinstance(metadata, dict) else None),
    )


def _refund_made_with(charge: Mapping[str, Any], key: str) -> dict[str, Any] | None:
    refunds = charge.get("refunds")
    found = refunds.get("data") if isinstance(refunds, dict) else None
    for refund in found if isinstance(found, list) else []:
        if not isinstance(refund, dict):
            continue
        metadata = refund.get("metadata")
        if isinstance(metadata, dict) and metadata.get("idempotency_key") == key:
            made: dict[str, Any] = refund
            return made
    return None


def _redirect_of(charge: Mapping[str, Any], request: CreatePayment) -> str:
    if request.method is PaymentMethod.PROMPTPAY:
        try:
            return str(charge["source"]["scannable_code"]["image"]["download_uri"])
        except (KeyError, TypeError):
            raise GatewayUnavailable("Omise answered a PromptPay charge without its QR") from None
    return str(charge.get("authorize_uri") or request.return_url)


def _said(data: Mapping[str, Any], answer: httpx.Response) -> str:
    if data.get("object") == "error":
        return f"{data.get('code')}: {data.get('message')}"[:200]
    return (answer.text[:200] or answer.reason_phrase).strip()


def _uuid(value: object) -> UUID | None:
    try:
        return UUID(str(value))
    except ValueError:
        return None
