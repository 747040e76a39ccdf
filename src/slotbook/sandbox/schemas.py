"""The sandbox's JSON bodies: what the merchant and the control calls send and get, and
the shape of its refusals."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    AnyHttpUrl,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from slotbook.domain import validation as rules
from slotbook.domain.gateway import GatewayPaymentStatus, PaymentMethod, RefundStatus
from slotbook.edge.schemas import Problem
from slotbook.sandbox.model import (
    MerchantApiMode,
    Outcome,
    PaymentRecord,
    RefundRecord,
    WebhookShaping,
)

Text = Annotated[str, AfterValidator(rules.check_text)]
"""Any text the sandbox stores: no NUL, no lone surrogate."""
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$"), AfterValidator(rules.check_text)]
AmountMinor = Annotated[int, Field(strict=True, gt=0, le=10**12)]
Instant = Annotated[
    AwareDatetime, BeforeValidator(rules.check_rfc3339), AfterValidator(rules.check_instant)
]
"""An RFC 3339 time with an offset, between 1970 and 2200, kept in UTC."""


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SandboxRequest(_Body):
    """A body the sandbox is sent: every text and time in it checked (a test walks them)."""


class SandboxProblem(Problem):
    """Every refusal: the service's problem shape, with the sandbox's own `code`."""

    code: str = Field(description="the refusal, as in `type`: payment_not_found, ...")


def refusals(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for a route's refusals (web/openapi.py files them under
    problem+json; every 422 as ValidationProblem). Every route may answer 503."""
    return {status: {"model": SandboxProblem} for status in (*statuses, 503)}


class SandboxCreatePayment(SandboxRequest):
    reference: Text = Field(min_length=1, max_length=64, description="the merchant's own id")
    amount_minor: AmountMinor
    currency: Currency
    method: PaymentMethod
    description: Text = Field(default="", max_length=255)
    return_url: AnyHttpUrl = Field(description="where the hosted page sends the customer back")
    notify_url: AnyHttpUrl = Field(description="where the webhooks of this payment go")
    expires_at: Instant = Field(description="the hosted page refuses to pay after this")

    @model_validator(mode="after")
    def _promptpay_is_baht(self) -> Self:
        if self.method is PaymentMethod.PROMPTPAY and self.currency != "THB":
            raise ValueError("PromptPay payments are in THB")
        return self


class SandboxRefund(_Body):
    id: str
    payment_id: str
    amount_minor: int
    currency: str
    status: RefundStatus
    created_at: datetime

    @classmethod
    def of(cls, refund: RefundRecord) -> SandboxRefund:
        return cls(
            id=refund.id,
            payment_id=refund.payment_id,
            amount_minor=refund.amount_minor,
            currency=refund.currency,
            status=refund.status,
            created_at=refund.created_at,
        )


class SandboxPayment(_Body):
    """The gateway's own view of a payment (what a merchant reconciles against)."""

    id: str
    reference: str
    method: PaymentMethod
    status: GatewayPaymentStatus
    amount_minor: int
    currency: str
    description: str
    redirect_url: str
    return_url: str
    notify_url: str
    created_at: datetime
    expires_at: datetime
    cancelled_at: datetime | None
    settled_at: datetime | None
    refunded_minor: int
    refunds: list[SandboxRefund]

    @classmethod
    def of(cls, payment: PaymentRecord, refunds: list[RefundRecord]) -> SandboxPayment:
        fields = {name: getattr(payment, name) for name in cls.model_fields if name != "refunds"}
        return cls(**fields, refunds=[SandboxRefund.of(r) for r in refunds])


class SandboxRefundRequest(SandboxRequest):
    amount_minor: AmountMinor
    currency: Currency


class SandboxWebhookShaping(SandboxRequest):
    delay_ms: int = Field(default=0, ge=0, le=3_600_000, description="before the first attempt")
    duplicates: int = Field(default=0, ge=0, le=10, description="extra copies, same event id")
    drop: bool = Field(default=False, description="never delivered")

    def shaping(self) -> WebhookShaping:
        return WebhookShaping(self.delay_ms, self.duplicates, self.drop)


class SandboxComplete(SandboxRequest):
    outcome: Outcome
    webhook: SandboxWebhookShaping | None = None


class SandboxMerchantApi(SandboxRequest):
    mode: MerchantApiMode


class SandboxDelivery(_Body):
    status: str = Field(description="pending, delivered, dropped or abandoned")
    attempts: int
    due_at: str | None
    claimed_until: str | None = Field(description="a worker is sending it until then")
    last_attempt_at: str | None
    delivered_at: str | None
    last_status_code: int | None
    last_error: str | None


class SandboxEvent(_Body):
    id: str
    type: str
    created_at: str
    refund_id: str | None
    deliveries: list[SandboxDelivery]


class SandboxEvents(_Body):
    events: list[SandboxEvent]
