"""A stand-in of Omise's API for the parts slotbook uses (charges from a card token or a
`promptpay` source, their retrieval and refunds), answering with the documented bodies of
tests/fixtures/omise/, and the webhook events Omise would send, signed as Omise signs
them. Card tokens: `tokn_test_declined` is charged and fails (insufficient funds),
`tokn_test_invalid` is refused (400 invalid_card); any other goes to 3-D Secure."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from slotbook.adapters.gateways.omise import OmiseGateway
from tests.stand_ins import StandIn, fixture, serving

SECRET_KEY = "skey_test_slotbook000000000000"
WEBHOOK_SECRET = base64.b64encode(b"slotbook omise webhook secret!!!").decode()
OTHER_SECRET = base64.b64encode(b"the secret rolled in its place!!").decode()
Answer = tuple[int, dict[str, Any]]


@dataclass
class OmiseStandIn(StandIn):
    provider: str = "omise"
    honours_idempotency_keys: bool = False
    charges: dict[str, dict[str, Any]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def routes(self) -> list[Route]:
        e = self.endpoint
        return [
            Route("/charges", e(self._create), methods=["POST"]),
            Route("/charges/{id}", e(self._retrieve), methods=["GET"]),
            Route("/charges/{id}/refunds", e(self._refund), methods=["POST"]),
        ]

    async def _create(self, request: Request, body: bytes) -> Answer:
        asked = json.loads(body)
        charge = fixture("omise", "charge.json")
        charge_id = f"chrg_test_slotbook{next(self._ids):06d}"
        charge.update(
            id=charge_id,
            location=f"/charges/{charge_id}",
            amount=asked["amount"],
            currency=str(asked["currency"]).upper(),
            description=asked.get("description"),
            metadata=asked.get("metadata") or {},
            return_uri=asked.get("return_uri"),
            status="pending",
            capture=True,
            paid=False,
        )
        if "source" in asked:
            source = fixture("omise", "promptpay_source.json")
            source.update(amount=asked["amount"], currency=charge["currency"])
            image = source["scannable_code"]["image"]
            image["download_uri"] = f"{self.url}/charges/{charge_id}/documents/qr"
            charge.update(source=source, card=None)
        elif asked.get("card") == "tokn_test_invalid":
            error = fixture("omise", "error_invalid_card.json")
            return 400, error
        elif asked.get("card") == "tokn_test_declined":
            charge.update(
                status="failed",
                failure_code="insufficient_fund",
                failure_message="insufficient funds in the account or the card has reached "
                "the credit limit",
            )
        else:
            charge["authorize_uri"] = f"{self.url}/payments/paym_test_{charge_id[10:]}/authorize"
        self.charges[charge_id] = charge
        return 200, charge

    async def _retrieve(self, request: Request, body: bytes) -> Answer:
        charge = self.charges.get(request.path_params["id"])
        if charge is None:
            return 404, {"object": "error", "code": "not_found", "message": "charge not found"}
        return 200, charge

    async def _refund(self, request: Request, body: bytes) -> Answer:
        charge = self.charges.get(request.path_params["id"])
        if charge is None or charge["status"] != "successful":
            return 400, {"object": "error", "code": "failed_refund", "message": "not refundable"}
        asked = json.loads(body)
        refund = fixture("omise", "refund.json")
        refund_id = f"rfnd_test_slotbook{next(self._ids):06d}"
        refund.update(
            id=refund_id,
            location=f"/charges/{charge['id']}/refunds/{refund_id}",
            amount=asked["amount"],
            currency=charge["currency"].lower(),
            charge=charge["id"],
            metadata=asked.get("metadata") or {},
        )
        charge["refunded_amount"] = charge.get("refunded_amount", 0) + asked["amount"]
        charge["refunds"]["data"].append(refund)
        charge["refunds"]["total"] += 1
        return 200, refund

    def complete(self, charge_id: str, status: str = "successful") -> dict[str, Any]:
        """The customer paid (or the charge failed, or expired) at Omise."""
        charge = self.charges[charge_id]
        charge.update(status=status, paid=status == "successful", authorized=True)
        if status == "failed":
            charge.update(failure_code="payment_rejected", failure_message="rejected")
        return charge

    def event(self, key: str, data: dict[str, Any], *, event_id: str | None = None) -> bytes:
        """The body Omise posts for this event."""
        event = fixture("omise", "event.json")
        event_id = event_id or f"evnt_test_slotbook{next(self._ids):06d}"
        event.update(id=event_id, key=key, data=data, location=f"/events/{event_id}")
        return json.dumps(event).encode()


def omise_signed(
    body: bytes, *, at: int, secrets: tuple[str, ...] = (WEBHOOK_SECRET,)
) -> dict[str, str]:
    """The headers Omise sends: the timestamp, and one hex HMAC-SHA256 of `timestamp.body`
    per base64 secret (comma-separated while a secret is rolled), computed here on its own
    rather than with the adapter's code."""
    stamp = str(at)
    signed = stamp.encode() + b"." + body
    signatures = ",".join(
        hmac.new(base64.b64decode(s), signed, hashlib.sha256).hexdigest() for s in secrets
    )
    return {"Omise-Signature": signatures, "Omise-Signature-Timestamp": stamp}


@asynccontextmanager
async def running_omise(
    *, timeout_seconds: float = 5.0
) -> AsyncIterator[tuple[OmiseStandIn, OmiseGateway]]:
    """The stand-in on loopback and slotbook's adapter pointed at it."""
    stand_in = OmiseStandIn()
    async with serving(stand_in, stand_in.routes()) as url:
        gateway = OmiseGateway(
            secret_key=SECRET_KEY,
            webhook_secret=WEBHOOK_SECRET,
            api_base=url,
            timeout_seconds=timeout_seconds,
        )
        try:
            yield stand_in, gateway
        finally:
            await gateway.aclose()
