"""Stripe webhooks: verified with the SDK's own signature check, then read.

`Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "t.body">[,v1=...]` (two `v1`
entries while a secret is rolled). The signature is checked by
`stripe.WebhookSignature.verify_header`; its timestamp tolerance reads the system clock, so
the 300 s window (both ways) is checked here against the service's clock instead, as for
the sandbox. The events acted on carry the Checkout Session: `checkout.session.completed`
(a success when paid; an async method such as PromptPay is still on its way otherwise),
`checkout.session.async_payment_succeeded` / `_failed` and `checkout.session.expired`.
Refunds close by `refund.created` / `refund.updated` (once its status is `succeeded`) and
`refund.failed`, found by the payment id slotbook put in the refund's metadata.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import stripe

from slotbook.domain.errors import InvalidSignature, MalformedWebhook
from slotbook.domain.gateway import EventKind, GatewayEvent

TOLERANCE = timedelta(seconds=300)
HEADER = "stripe-signature"
_TIMESTAMP = re.compile(r"(?:^|,)\s*t=([0-9]{1,11})\s*(?:,|$)")
REFUND_EVENTS = frozenset({"refund.created", "refund.updated", "refund.failed"})
REFUND_KINDS = {
    "succeeded": EventKind.REFUND_SUCCEEDED,
    "failed": EventKind.REFUND_FAILED,
    "canceled": EventKind.REFUND_FAILED,
}
KINDS = {
    "checkout.session.async_payment_succeeded": EventKind.PAYMENT_SUCCEEDED,
    "checkout.session.async_payment_failed": EventKind.PAYMENT_FAILED,
    "checkout.session.expired": EventKind.PAYMENT_CANCELLED,
}


def verified_stripe_body(
    secret: str, headers: Mapping[str, str], body: bytes, *, now: datetime
) -> str:
    """The body text of a webhook whose Stripe-Signature checks out; InvalidSignature
    otherwise (missing, forged, or more than 300 s away from `now`)."""
    header = {k.lower(): v for k, v in headers.items()}.get(HEADER, "")
    try:
        text = body.decode("utf-8")
        stripe.WebhookSignature.verify_header(text, header, secret, tolerance=None)
    except (stripe.SignatureVerificationError, UnicodeDecodeError) as exc:
        raise InvalidSignature(f"Stripe-Signature does not verify: {exc}") from None
    found = _TIMESTAMP.search(header)
    if found is None:
        raise InvalidSignature("Stripe-Signature carries no timestamp")
    if abs(now - datetime.fromtimestamp(int(found.group(1)), tz=UTC)) > TOLERANCE:
        raise InvalidSignature("Stripe-Signature timestamp is more than 300 s away from now")
    return text


def parse_stripe_event(
    secret: str, headers: Mapping[str, str], body: bytes, *, now: datetime
) -> GatewayEvent:
    """The event of a verified Stripe webhook, reduced to what slotbook acts on."""
    text = verified_stripe_body(secret, headers, body, now=now)
    try:
        event = json.loads(text)
        event_id, kind_name = str(event["id"]), str(event["type"])
    except (ValueError, KeyError, TypeError):
        raise MalformedWebhook("unreadable Stripe event") from None
    if kind_name in REFUND_EVENTS:
        return _refund_event(event_id, _object(event, "refund"))
    kind = KINDS.get(kind_name)
    if kind_name == "checkout.session.completed":
        session = _session(event)
        paid = session.get("payment_status") == "paid"
        kind = EventKind.PAYMENT_SUCCEEDED if paid else EventKind.IGNORED
    if kind is None or kind is EventKind.IGNORED:
        return GatewayEvent(event_id=event_id, kind=EventKind.IGNORED)
    session = _session(event)
    amount = session.get("amount_total")
    if not isinstance(amount, int) or not isinstance(session.get("id"), str):
        raise MalformedWebhook(f"a {kind_name} event without its session's id and amount")
    return GatewayEvent(
        event_id=event_id,
        kind=kind,
        gateway_payment_id=session["id"],
        reference=_uuid(session.get("client_reference_id")),
        amount_minor=amount,
        currency=str(session.get("currency") or "").upper(),
    )


def _refund_event(event_id: str, refund: dict[str, Any]) -> GatewayEvent:
    """A refund's news: succeeded, failed, or (pending, requires_action) not yet any."""
    kind = REFUND_KINDS.get(str(refund.get("status")))
    if kind is None:
        return GatewayEvent(event_id=event_id, kind=EventKind.IGNORED)
    amount, refund_id, metadata = refund.get("amount"), refund.get("id"), refund.get("metadata")
    if not (isinstance(amount, int) and isinstance(refund_id, str)):
        raise MalformedWebhook("a refund event without its refund's id and amount")
    reference = metadata.get("payment_id") if isinstance(metadata, dict) else None
    return GatewayEvent(
        event_id=event_id,
        kind=kind,
        reference=_uuid(reference),
        amount_minor=amount,
        currency=str(refund.get("currency") or "").upper(),
        gateway_refund_id=refund_id,
    )


def _session(event: dict[str, Any]) -> dict[str, Any]:
    return _object(event, "checkout.session")


def _object(event: dict[str, Any], kind: str) -> dict[str, Any]:
    try:
        found = event["data"]["object"]
    except (KeyError, TypeError):
        raise MalformedWebhook("a Stripe event without its data.object") from None
    if not isinstance(found, dict) or found.get("object") != kind:
        raise MalformedWebhook(f"a Stripe event without its {kind}")
    return found


def _uuid(value: object) -> UUID | None:
    try:
        return UUID(str(value))
    except ValueError:
        return None
