"""The payment gateway port: what slotbook needs from a payment provider.

Adapters (the sandbox, later Stripe and Omise) implement `PaymentGateway`. Their SDK and
HTTP errors never leave them: a gateway that cannot be reached or answers 5xx raises
`GatewayUnavailable`; one that refuses a request raises `GatewayRefused`. Every call that
changes something carries an idempotency key derived from slotbook's own ids
(`idempotency_key`), so a retry after a crash or a timeout never does it twice. No call is
ever made while a database transaction is open.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol
from uuid import UUID


class PaymentMethod(StrEnum):
    CARD = "card"
    PROMPTPAY = "promptpay"


class GatewayPaymentStatus(StrEnum):
    """A payment as the gateway sees it."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class RefundStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class EventKind(StrEnum):
    PAYMENT_SUCCEEDED = "payment.succeeded"
    PAYMENT_FAILED = "payment.failed"
    PAYMENT_CANCELLED = "payment.cancelled"
    REFUND_SUCCEEDED = "refund.succeeded"
    REFUND_FAILED = "refund.failed"
    IGNORED = "ignored"  # a well-signed event of a kind slotbook does not act on


def idempotency_key(action: str, our_id: UUID) -> str:
    """The key of one action on one of our objects: the same action retried, same key."""
    return f"slotbook-{action}-{our_id}"


@dataclass(frozen=True, slots=True)
class CreatePayment:
    reference: UUID  # our payment id, echoed back in the gateway's events
    amount_minor: int
    currency: str
    method: PaymentMethod
    description: str
    return_url: str  # where the hosted page sends the customer afterwards
    notify_url: str  # where the gateway posts its webhooks
    expires_at: datetime  # the hold's expiry: paying later than this is pointless
    idempotency_key: str
    hold_id: UUID | None = None  # echoed in the gateway's metadata beside the reference
    card_token: str | None = None  # a gateway that charges a tokenised card (Omise) needs it


@dataclass(frozen=True, slots=True)
class CreatedPayment:
    gateway_payment_id: str
    redirect_url: str


@dataclass(frozen=True, slots=True)
class PaymentState:
    gateway_payment_id: str
    status: GatewayPaymentStatus
    amount_minor: int
    currency: str
    reference: UUID | None = None


@dataclass(frozen=True, slots=True)
class RefundRequest:
    gateway_payment_id: str
    amount_minor: int
    currency: str
    idempotency_key: str
    reference: UUID | None = None  # our payment id, echoed in the refund's events


@dataclass(frozen=True, slots=True)
class RefundResult:
    gateway_refund_id: str
    status: RefundStatus


@dataclass(frozen=True, slots=True)
class GatewayEvent:
    """One verified webhook event, reduced to what slotbook acts on."""

    event_id: str
    kind: EventKind
    gateway_payment_id: str | None = None
    reference: UUID | None = None
    amount_minor: int | None = None
    currency: str | None = None
    gateway_refund_id: str | None = None


class PaymentGateway(Protocol):
    """One payment provider, as slotbook uses it."""

    @property
    def name(self) -> str:
        """The gateway's name in URLs and stored rows (`sandbox`, `stripe`, `omise`)."""
        ...

    @property
    def takes_card_token(self) -> bool:
        """True when a card is charged from a token its card form made in the customer's
        browser (Omise.js); False when its own hosted page takes the card."""
        ...

    @property
    def promptpay_qr_image(self) -> bool:
        """True when a PromptPay payment's `redirect_url` is the QR image itself, for
        slotbook's own page to show (Omise); False when it is a hosted page."""
        ...

    async def create_payment(self, request: CreatePayment) -> CreatedPayment:
        """Start a payment the customer completes on the gateway's hosted page."""
        ...

    async def get_payment(self, gateway_payment_id: str) -> PaymentState:
        """The payment as the gateway sees it now (used to reconcile)."""
        ...

    async def cancel_payment(
        self, gateway_payment_id: str, *, idempotency_key: str
    ) -> PaymentState:
        """Withdraw a payment not yet made; answers its state afterwards, which is
        `succeeded` when the customer paid just before the cancellation arrived."""
        ...

    async def refund(self, request: RefundRequest) -> RefundResult:
        """Give a succeeded payment's money back (again with the same key: its state)."""
        ...

    def parse_webhook(
        self, headers: Mapping[str, str], body: bytes, *, now: datetime
    ) -> GatewayEvent:
        """Verify a webhook's signature and timestamp before reading anything else of it.

        InvalidSignature (bad, missing or stale), MalformedWebhook (signed but unreadable).
        """
        ...
