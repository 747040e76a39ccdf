"""The body of a sandbox webhook, read once its signature has been verified.

`{"id": "evt_...", "type": "payment.succeeded", "created_at": ..., "data": {"payment":
{"id", "reference", "status", "amount_minor", "currency", "method"}, "refund": {...}}}`;
refund events carry the refund as well, and their amount is the refund's. A type slotbook
does not act on is IGNORED without reading further; a known one that cannot be read is
MalformedWebhook.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import BaseModel, StrictInt, ValidationError

from slotbook.domain.errors import MalformedWebhook
from slotbook.domain.gateway import EventKind, GatewayEvent

REFUND_KINDS = frozenset({EventKind.REFUND_SUCCEEDED, EventKind.REFUND_FAILED})


class _Envelope(BaseModel):
    id: str
    type: str
    data: Any = None


class _Payment(BaseModel):
    id: str
    reference: UUID
    amount_minor: StrictInt
    currency: str


class _Refund(BaseModel):
    id: str
    amount_minor: StrictInt
    currency: str


class _Data(BaseModel):
    payment: _Payment
    refund: _Refund | None = None


def parse_event(event_id: str, text: str) -> GatewayEvent:
    """The event in a verified body; `event_id` is the signed webhook-id."""
    try:
        envelope = _Envelope.model_validate_json(text)
    except ValidationError as exc:
        raise MalformedWebhook(f"unreadable webhook body: {_first(exc)}") from None
    if envelope.id != event_id:
        raise MalformedWebhook("the body's id is not the webhook-id")
    try:
        kind = EventKind(envelope.type)
    except ValueError:
        kind = EventKind.IGNORED
    if kind is EventKind.IGNORED:
        return GatewayEvent(event_id=event_id, kind=kind)
    try:
        data = _Data.model_validate(envelope.data)
    except ValidationError as exc:
        raise MalformedWebhook(f"unreadable {kind.value} event: {_first(exc)}") from None
    if kind in REFUND_KINDS and data.refund is None:
        raise MalformedWebhook(f"a {kind.value} event without its refund")
    money = data.refund if kind in REFUND_KINDS and data.refund else data.payment
    return GatewayEvent(
        event_id=event_id,
        kind=kind,
        gateway_payment_id=data.payment.id,
        reference=data.payment.reference,
        amount_minor=money.amount_minor,
        currency=money.currency,
        gateway_refund_id=data.refund.id if data.refund else None,
    )


def _first(exc: ValidationError) -> str:
    error = exc.errors()[0]
    return f"{'.'.join(map(str, error['loc'])) or 'body'}: {error['msg']}"
