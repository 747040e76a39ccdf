"""The sandbox's records, its ids and the body of the events it sends.

A payment is `pending` until settled (`succeeded` or `failed`, once, for good). The
merchant may cancel it while pending; a cancelled payment can still be settled by the
control call, which is how tests play "the customer paid just before the cancellation
arrived" (API.md). Refunds take money back from a succeeded payment, never more than it
took.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Row

from slotbook.domain.gateway import EventKind, GatewayPaymentStatus, PaymentMethod, RefundStatus

PAYMENT_PREFIX, REFUND_PREFIX, EVENT_PREFIX = "sbx_pay_", "sbx_re_", "evt_"


def new_id(prefix: str) -> str:
    return prefix + secrets.token_hex(12)


def rfc3339(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Outcome(StrEnum):
    """How the customer's bank or card network answered."""

    SUCCEEDED = "succeeded"
    DECLINED = "declined"

    @property
    def status(self) -> GatewayPaymentStatus:
        if self is Outcome.SUCCEEDED:
            return GatewayPaymentStatus.SUCCEEDED
        return GatewayPaymentStatus.FAILED

    @property
    def event(self) -> EventKind:
        if self is Outcome.SUCCEEDED:
            return EventKind.PAYMENT_SUCCEEDED
        return EventKind.PAYMENT_FAILED


@dataclass(frozen=True, slots=True)
class WebhookShaping:
    """How the events of one settlement travel: late, more than once, or not at all."""

    delay_ms: int = 0  # before the first attempt
    duplicates: int = 0  # extra deliveries of the same event (same webhook-id)
    drop: bool = False  # never delivered


@dataclass(frozen=True, slots=True)
class PaymentRecord:
    id: str
    reference: str
    method: PaymentMethod
    status: GatewayPaymentStatus
    amount_minor: int
    currency: str
    description: str
    return_url: str
    notify_url: str
    redirect_url: str
    created_at: datetime
    expires_at: datetime
    cancelled_at: datetime | None
    settled_at: datetime | None
    refunded_minor: int

    @classmethod
    def from_row(cls, row: Row[Any]) -> PaymentRecord:
        values = dict(row._mapping)
        values["method"] = PaymentMethod(values["method"])
        values["status"] = GatewayPaymentStatus(values["status"])
        return cls(**values)

    @property
    def settled(self) -> bool:
        return self.settled_at is not None

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    def summary(self) -> dict[str, Any]:
        """The payment as an event tells it."""
        return {
            "id": self.id,
            "reference": self.reference,
            "status": self.status.value,
            "amount_minor": self.amount_minor,
            "currency": self.currency,
            "method": self.method.value,
        }


@dataclass(frozen=True, slots=True)
class RefundRecord:
    id: str
    payment_id: str
    amount_minor: int
    currency: str
    status: RefundStatus
    created_at: datetime

    @classmethod
    def from_row(cls, row: Row[Any]) -> RefundRecord:
        values = dict(row._mapping)
        values["status"] = RefundStatus(values["status"])
        return cls(**values)

    def summary(self) -> dict[str, Any]:
        values = asdict(self)
        values["status"] = self.status.value
        values["created_at"] = rfc3339(self.created_at)
        return values


def event_body(
    event_id: str,
    kind: EventKind,
    *,
    created_at: datetime,
    payment: PaymentRecord,
    refund: RefundRecord | None = None,
) -> str:
    """The JSON every delivery of one event sends, byte for byte."""
    data: dict[str, Any] = {"payment": payment.summary()}
    if refund is not None:
        data["refund"] = refund.summary()
    body = {"id": event_id, "type": kind.value, "created_at": rfc3339(created_at), "data": data}
    return json.dumps(body, separators=(",", ":"))


class MerchantApiMode(StrEnum):
    """The control switch over the merchant API, for tests of an outage."""

    UP = "up"
    DOWN = "down"  # every merchant call answers 503 and does nothing
    LOSE_ANSWERS = "lose_answers"  # every merchant call does its work, then answers 503
