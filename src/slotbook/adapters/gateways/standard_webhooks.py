"""Verifying a Standard Webhooks signature against an injected clock.

The `standardwebhooks` package computes the signature (`Webhook.sign`), but its `verify`
reads the system clock and lets a malformed `webhook-signature` header escape as a
`ValueError`; so the checks are made here: the three headers present, the timestamp a
Unix time within 300 s of `now`, and one `v1,` signature among those sent matching the
HMAC-SHA256 of `id.timestamp.body`. Nothing of the body is read before they pass.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from standardwebhooks import Webhook

from slotbook.domain.errors import InvalidSignature

TOLERANCE = timedelta(seconds=300)
ID, TIMESTAMP, SIGNATURE = "webhook-id", "webhook-timestamp", "webhook-signature"
_UNIX_TIME = re.compile(r"[1-9][0-9]{0,10}")


def verified_body(
    signer: Webhook, headers: Mapping[str, str], body: bytes, *, now: datetime
) -> tuple[str, str]:
    """(message id, body text) of a webhook whose signature and timestamp check out;
    InvalidSignature otherwise."""
    lowered = {name.lower(): value for name, value in headers.items()}
    message_id, stamp, signatures = (lowered.get(n, "") for n in (ID, TIMESTAMP, SIGNATURE))
    if not (message_id and stamp and signatures):
        raise InvalidSignature(f"the {ID}, {TIMESTAMP} and {SIGNATURE} headers are required")
    if not _UNIX_TIME.fullmatch(stamp):
        raise InvalidSignature("webhook-timestamp is not a Unix time")
    sent_at = datetime.fromtimestamp(int(stamp), tz=UTC)
    if abs(now - sent_at) > TOLERANCE:
        raise InvalidSignature("webhook-timestamp is more than 300 s away from now")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidSignature("the body is not the UTF-8 text that was signed") from None
    expected = base64.b64decode(signer.sign(message_id, sent_at, text).split(",", 1)[1])
    if not any(hmac.compare_digest(given, expected) for given in _v1_signatures(signatures)):
        raise InvalidSignature("no webhook signature matches")
    return message_id, text


def _v1_signatures(header: str) -> list[bytes]:
    """The decodable `v1,<base64>` entries of a webhook-signature header; others skipped."""
    found = []
    for entry in header.split():
        version, _, encoded = entry.partition(",")
        if version != "v1":
            continue
        try:
            found.append(base64.b64decode(encoded, validate=True))
        except binascii.Error:
            continue
    return found
