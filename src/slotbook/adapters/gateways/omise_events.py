"""Omise webhooks: their signature checked, then read.

Omise signs each delivery with `Omise-Signature-Timestamp` (Unix seconds) and
`Omise-Signature`, the hex HMAC-SHA256 of `timestamp + "." + raw body` keyed with the
base64-decoded webhook secret; while a secret is rolled the header carries two
comma-separated signatures, and either may match. The timestamp must be within 300 s of
the service's clock, as for the sandbox. The events acted on: `charge.complete` (the
charge's status says succeeded, failed or expired) and `refund.create`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from slotbook.domain.errors import InvalidSignature, MalformedWebhook
from slotbook.domain.gateway import EventKind, GatewayEvent

TOLERANCE = timedelta(seconds=300)
SIGNATURE, TIMESTAMP = "omise-signature", "omise-signature-timestamp"
_UNIX_TIME = re.compile(r"[1-9][0-9]{0,10}")
_HEX = re.compile(r"[0-9a-fA-F]{64}")
CHARGE_KINDS = {
    "successful": EventKind.PAYMENT_SUCCEEDED,
    "failed": EventKind.PAYMENT_FAILED,
    "expired": EventKind.PAYMENT_CANCELLED,
}


def omise_signature(secret: str, timestamp: str, body: bytes) -> str:
    """The hex signature Omise sends for this body and timestamp."""
    key = base64.b64decode(secret)
    return hmac.new(key, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def verified_omise_body(
    secret: str, headers: Mapping[str, str], body: bytes, *, now: datetime
) -> bytes:
    """The body of a webhook whose Omise signature and timestamp check out;
    InvalidSignature otherwise."""
    lowered = {name.lower(): value for name, value in headers.items()}
    stamp, signatures = lowered.get(TIMESTAMP, ""), lowered.get(SIGNATURE, "")
    if not (stamp and signatures):
        raise InvalidSignature(f"the {SIGNATURE} and {TIMESTAMP} headers are required")
    if not _UNIX_TIME.fullmatch(stamp):
        raise InvalidSignature(f"{TIMESTAMP} is not a Unix time")
    if abs(now - datetime.fromtimestamp(int(stamp), tz=UTC)) > TOLERANCE:
        raise InvalidSignature(f"{TIMESTAMP} is more than 300 s away from now")
    expected = omise_signature(secret, stamp, body)
    given = [s.strip() for s in signatures.split(",") if _HEX.fullmatch(s.strip())]
    if not any(hmac.compare_digest(s.lower(), expected) for s in given):
        raise InvalidSignature("no Omise signature matches")
    return body


def parse_omise_event(
    secret: str, headers: Mapping[str, str], body: bytes, *, now: datetime
) -> GatewayEvent:
    """The event of a verified Omise webhook, reduced to what slotbook acts on."""
    verified = verified_omise_body(secret, headers, body, now=now)
    try:
        event = json.loads(verified)
        event_id, key, data = str(event["id"]), str(event["key"]), event["data"]
        if not isinstance(data, dict):
            raise TypeError("data is not an object")
    except (ValueError, KeyError, TypeError):
        raise MalformedWebhook("unreadable Omise event") from None
    if key == "charge.complete":
        return _charge_event(event_id, data)
    if key == "refund.create":
        return _refund_event(event_id, data)
    return GatewayEvent(event_id=event_id, kind=EventKind.IGNORED)


def _charge_event(event_id: str, charge: dict[str, Any]) -> GatewayEvent:
    kind = CHARGE_KINDS.get(str(charge.get("status")))
    if kind is None:
        return GatewayEvent(event_id=event_id, kind=EventKind.IGNORED)
    amount, charge_id = charge.get("amount"), charge.get("id")
    if not isinstance(amount, int) or not isinstance(charge_id, str):
        raise MalformedWebhook("a charge.complete event without its charge's id and amount")
    metadata = charge.get("metadata")
    reference = metadata.get("payment_id") if isinstance(metadata, dict) else None
    return GatewayEvent(
        event_id=event_id,
        kind=kind,
        gateway_payment_id=charge_id,
        reference=_uuid(reference),
        amount_minor=amount,
        currency=str(charge.get("currency") or "").upper(),
    )


def _refund_event(event_id: str, refund: dict[str, Any]) -> GatewayEvent:
    amount, refund_id, charge = refund.get("amount"), refund.get("id"), refund.get("charge")
    charge_id = charge.get("id") if isinstance(charge, dict) else charge
    if not (isinstance(amount, int) and isinstance(refund_id, str) and charge_id):
        raise MalformedWebhook("a refund.create event without its refund and charge")
    return GatewayEvent(
        event_id=event_id,
        kind=EventKind.REFUND_SUCCEEDED,
        gateway_payment_id=str(charge_id),
        amount_minor=amount,
        currency=str(refund.get("currency") or "").upper(),
        gateway_refund_id=refund_id,
    )


def _uuid(value: object) -> UUID | None:
    try:
        return UUID(str(value))
    except ValueError:
        return None
