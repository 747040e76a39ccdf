"""Request bodies and documented shapes of API.md's payments, bookings and admin parts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, StringConstraints, UrlConstraints

ReturnUrl = Annotated[
    AnyHttpUrl, UrlConstraints(max_length=2048, allowed_schemes=["http", "https"])
]

CardToken = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^\w+$")]


class PaymentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: Literal["card", "promptpay"]
    return_url: ReturnUrl | None = None
    card_token: CardToken | None = Field(
        default=None,
        description="The token of the card, made in the customer's browser by the card "
        "gateway's own form (Omise.js); only where that gateway takes card payments",
    )


class PaymentOut(BaseModel):
    id: UUID
    hold_id: UUID
    gateway: str
    gateway_payment_id: str | None
    method: Literal["card", "promptpay"]
    status: Literal["pending", "succeeded", "failed", "cancelled", "refunded"]
    amount_minor: int
    currency: str
    redirect_url: str | None
    created_at: datetime
    returned_at: datetime | None
    refund: dict[str, object] | None = Field(
        default=None, description="The payment's refund, once one is owed"
    )


class EscrowOut(BaseModel):
    status: Literal["held", "released", "refunded"]
    amount_minor: int


class BookingOut(BaseModel):
    id: UUID
    hold_id: UUID
    slot_id: UUID
    provider_id: UUID
    customer_id: UUID
    payment_id: UUID | None
    status: Literal["confirmed", "completed", "cancelled"]
    amount_minor: int
    currency: str
    confirmed_at: datetime
    completed_at: datetime | None
    cancelled_at: datetime | None
    escrow: EscrowOut


class BookingsOut(BaseModel):
    bookings: list[BookingOut]


_ONE_CURRENCY = (
    "in the ledger's one currency (`currency`); 0 when it is empty; null when it holds "
    "several currencies (amounts in different currencies are never added: see `currencies`)"
)


class LedgerCurrencyOut(BaseModel):
    """The ledger in one currency."""

    currency: str
    payments_succeeded_minor: int
    escrow_held_minor: int
    released_to_providers_minor: int
    platform_fees_minor: int
    refunded_minor: int
    refunds_pending_minor: int
    balanced: bool = Field(
        description="every ledger transaction sums to zero in this currency, and succeeded ="
        " escrow held + released + fees + refunded + refunds pending in it"
    )


class LedgerSummaryOut(BaseModel):
    payments_succeeded_minor: int | None = Field(description=_ONE_CURRENCY)
    escrow_held_minor: int | None = Field(description=_ONE_CURRENCY)
    released_to_providers_minor: int | None = Field(description=_ONE_CURRENCY)
    platform_fees_minor: int | None = Field(description=_ONE_CURRENCY)
    refunded_minor: int | None = Field(description=_ONE_CURRENCY)
    refunds_pending_minor: int | None = Field(description=_ONE_CURRENCY)
    balanced: bool = Field(description="every currency in `currencies` balances")
    currency: str | None = Field(
        description="the currency of the amounts above; null when the ledger holds none or several"
    )
    currencies: list[LedgerCurrencyOut] = Field(
        description="each currency's own amounts, by currency code"
    )
