"""A stand-in of Omise's API for the parts slotbook uses (charges from a card token or a
`promptpay` source, their retrieval and refunds), answering with the documented bodies of
tests/fixtures/omise/, and the webhook events Omise would send, signed as Omise signs
them. Card tokens: `tokn_test_declined` is charged and fails (insufficient funds),
`tokn_test_invalid` is refused (400 invalid_card); any other goes to 3-D Secure.

For a browser it also serves an Omise.js of its own (`/omise.js`: `Omise.setPublicKey`,
`Omise.createToken("card", card, callback(status, response))`, as Omise documents them)
minting tokens at `/tokens` (DECLINED_CARD makes one whose charge fails; a number that
fails the Luhn check is refused), and the 3-D Secure page of a charge's `authorize_uri`,
which completes the charge, posts its signed `charge.complete` to `webhook_url` and sends
the customer back to the charge's `return_uri`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any

import httpx
import segno
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from slotbook.adapters.gateways.omise import OmiseGateway
from tests.stand_ins import Answer, StandIn, fixture, running

SECRET_KEY = "skey_test_slotbook000000000000"
WEBHOOK_SECRET = base64.b64encode(b"slotbook omise webhook secret!!!").decode()
OTHER_SECRET = base64.b64encode(b"the secret rolled in its place!!").decode()
PUBLIC_KEY = "pkey_test_slotbook000000000000"
DECLINED_CARD = "4111111111140011"  # Omise's test card for insufficient funds
OMISE_JS = """window.Omise = (function () {
  var key = null;
  return {
    setPublicKey: function (k) { key = k; },
    createToken: function (type, card, callback) {
      fetch("%(url)s/tokens", {method: "POST", body: JSON.stringify({key: key, card: card})})
        .then(function (r) { return r.json().then(function (b) { callback(r.status, b); }); })
        .catch(function () { callback(0, {object: "error", message: "unreachable"}); });
    }
  };
})();
"""


@dataclass
class OmiseStandIn(StandIn):
    provider: str = "omise"
    honours_idempotency_keys: bool = False
    charges: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    webhook_url: str | None = None  # where a completed 3-D Secure page posts its event

    def routes(self) -> list[Route]:
        e = self.endpoint
        return [
            Route("/charges", e(self._create), methods=["POST"]),
            Route("/charges/{id}", e(self._retrieve), methods=["GET"]),
            Route("/charges/{id}/refunds", e(self._refund), methods=["POST"]),
            Route("/omise.js", self._omise_js, methods=["GET"]),
            Route("/tokens", self._token, methods=["POST"]),
            Route("/payments/{id}/authorize", self._authorize, methods=["GET"]),
            Route("/charges/{id}/documents/qr", self._qr_image, methods=["GET"]),
        ]

    async def _qr_image(self, request: Request) -> Response:
        """The charge's PromptPay QR image (`scannable_code.image.download_uri`)."""
        charge = self.charges.get(request.path_params["id"])
        if charge is None:
            return Response("no such charge", status_code=404)
        image = BytesIO()
        segno.make(f"omise-stand-in:{charge['id']}:{charge['amount']}").save(
            image, kind="png", scale=8
        )
        return Response(image.getvalue(), media_type="image/png")

    async def _omise_js(self, request: Request) -> Response:
        script = OMISE_JS % {"url": self.url}
        return Response(script, media_type="application/javascript")

    async def _token(self, request: Request) -> Response:
        """A card token, as Omise's vault makes it for Omise.js (a simple request, so the
        browser sends no preflight; readable from any origin)."""
        asked = json.loads(await request.body())
        card = asked.get("card") or {}
        number = str(card.get("number", ""))
        status, answer = 200, fixture("omise", "token.json")
        if not str(asked.get("key", "")).startswith("pkey_test_"):
            status, answer = 401, {"object": "error", "code": "authentication_failure"}
        elif not _luhn(number):
            status, answer = 400, {**fixture("omise", "error_invalid_card.json")}
            answer["message"] = "number is invalid"
        else:
            token_id = self.new_id("tokn_test_slotbook")
            answer.update(id=token_id, used=False, location=f"{self.url}/tokens/{token_id}")
            answer["card"] = {**fixture("omise", "charge.json")["card"], "name": card["name"]}
            answer["card"]["last_digits"] = number[-4:]
            self.tokens[token_id] = {**answer, "number": number}
        headers = {"Access-Control-Allow-Origin": "*"}
        return JSONResponse(answer, status_code=status, headers=headers)

    async def _authorize(self, request: Request) -> Response:
        """The bank's 3-D Secure page, passed at once: the charge is paid, its webhook sent."""
        charge_id = "chrg_test_" + request.path_params["id"].removeprefix("paym_test_")
        charge = self.charges.get(charge_id)
        if charge is None:
            return Response("no such payment", status_code=404)
        body = self.event("charge.complete", self.complete(charge_id))
        if self.webhook_url is not None:
            headers = omise_signed(body, at=int(time.time()))
            async with httpx.AsyncClient(timeout=5.0) as client:
                await client.post(self.webhook_url, content=body, headers=headers)
        return RedirectResponse(str(charge["return_uri"]), status_code=302)

    async def _create(self, request: Request, body: bytes) -> Answer:
        asked = json.loads(body)
        charge = fixture("omise", "charge.json")
        charge_id = self.new_id("chrg_test_slotbook")
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
        elif asked.get("card") == "tokn_test_declined" or self._declines(asked.get("card")):
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
        refund_id = self.new_id("rfnd_test_slotbook")
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

    def _declines(self, token_id: object) -> bool:
        token = self.tokens.get(str(token_id))
        return token is not None and token["number"] == DECLINED_CARD

    def complete(self, charge_id: str, status: str = "successful") -> dict[str, Any]:
        """The customer paid (or the charge failed, or expired) at Omise."""
        charge = self.charges[charge_id]
        charge.update(status=status, paid=status == "successful", authorized=True)
        if status == "failed":
            charge.update(failure_code="payment_rejected", failure_message="rejected")
        return charge

    def event(self, key: str, data: dict[str, Any], *, event_id: str | None = None) -> bytes:
        """The body Omise posts for this event."""
        event_id = event_id or self.new_id("evnt_test_slotbook")
        return self.envelope(event_id, key=key, data=data, location=f"/events/{event_id}")


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

    def gateway_for(url: str) -> OmiseGateway:
        return OmiseGateway(
            secret_key=SECRET_KEY,
            webhook_secret=WEBHOOK_SECRET,
            api_base=url,
            timeout_seconds=timeout_seconds,
        )

    async with running(OmiseStandIn(), gateway_for) as both:
        yield both


def _luhn(number: str) -> bool:
    """The card number's check digit holds (the test numbers all pass it)."""
    if not number.isdigit() or not 12 <= len(number) <= 19:
        return False
    digits = [int(d) for d in reversed(number)]
    total = sum(digits[0::2]) + sum(sum(divmod(2 * d, 10)) for d in digits[1::2])
    return total % 10 == 0
