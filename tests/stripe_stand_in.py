"""A stand-in of Stripe's API for the parts slotbook uses (Checkout Sessions, their expiry,
PaymentIntents, Refunds), answering with the documented bodies of tests/fixtures/stripe/,
and the webhook events Stripe would send, signed as Stripe signs them."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import stripe
from starlette.requests import Request
from starlette.routing import Route

from slotbook.adapters.gateways.stripe_checkout import StripeGateway
from tests.stand_ins import Answer, StandIn, fixture, running

SECRET_KEY = "sk_test_slotbook0000000000000000"
WEBHOOK_SECRET = "whsec_slotbooktest0000000000000000000000"


def _form(body: bytes) -> dict[str, str]:
    return dict(parse_qsl(body.decode(), keep_blank_values=True))


def _invalid(message: str, status: int = 400) -> Answer:
    return status, {"error": {"type": "invalid_request_error", "message": message}}


@dataclass
class StripeStandIn(StandIn):
    provider: str = "stripe"
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    refund_status: str = "succeeded"  # what a new refund is

    def routes(self) -> list[Route]:
        e = self.endpoint
        return [
            Route("/v1/checkout/sessions", e(self._create), methods=["POST"]),
            Route("/v1/checkout/sessions/{id}", e(self._retrieve), methods=["GET"]),
            Route("/v1/checkout/sessions/{id}/expire", e(self._expire), methods=["POST"]),
            Route("/v1/refunds", e(self._refund), methods=["POST"]),
            Route("/v1/refunds/{id}", e(self._get_refund), methods=["GET"]),
        ]

    async def _create(self, request: Request, body: bytes) -> Answer:
        form = _form(body)
        session = fixture("stripe", "checkout_session.json")
        session_id = self.new_id("cs_test_slotbook")
        amount = int(form["line_items[0][price_data][unit_amount]"])
        session.update(
            id=session_id,
            status="open",
            payment_status="unpaid",
            amount_subtotal=amount,
            amount_total=amount,
            currency=form["line_items[0][price_data][currency]"],
            client_reference_id=form.get("client_reference_id"),
            metadata={k[9:-1]: v for k, v in form.items() if k.startswith("metadata[")},
            payment_method_types=[v for k, v in form.items() if k.startswith("payment_method_t")],
            success_url=form.get("success_url"),
            cancel_url=form.get("cancel_url"),
            url=f"{self.url}/c/pay/{session_id}",
            expires_at=int(time.time()) + 24 * 3600,
        )
        self.sessions[session_id] = session
        return 200, session

    async def _retrieve(self, request: Request, body: bytes) -> Answer:
        session = self.sessions.get(request.path_params["id"])
        if session is None:
            return _invalid("No such checkout.session", 404)
        answer = dict(session)
        expand = [v for k, v in request.query_params.multi_items() if k.startswith("expand")]
        if "payment_intent" in expand and session["payment_intent"]:
            answer["payment_intent"] = self.intents[session["payment_intent"]]
        return 200, answer

    async def _expire(self, request: Request, body: bytes) -> Answer:
        session = self.sessions.get(request.path_params["id"])
        if session is None:
            return _invalid("No such checkout.session", 404)
        if session["status"] != "open":
            return _invalid(f"This Checkout Session is {session['status']} and cannot expire")
        session.update(status="expired", url=None)
        return 200, session

    async def _refund(self, request: Request, body: bytes) -> Answer:
        form = _form(body)
        intent = self.intents.get(form.get("payment_intent", ""))
        if intent is None or intent["status"] != "succeeded":
            return _invalid("This PaymentIntent has no successful charge to refund")
        refund = fixture("stripe", "refund.json")
        refund.update(
            id=self.new_id("re_slotbook"),
            amount=int(form.get("amount", intent["amount"])),
            currency=intent["currency"],
            payment_intent=intent["id"],
            status=self.refund_status,
            metadata={k[9:-1]: v for k, v in form.items() if k.startswith("metadata[")},
        )
        self.refunds[refund["id"]] = refund
        return 200, refund

    async def _get_refund(self, request: Request, body: bytes) -> Answer:
        refund = self.refunds.get(request.path_params["id"])
        return (200, refund) if refund else _invalid("No such refund", 404)

    def pay(self, session_id: str, *, intent_status: str = "succeeded") -> dict[str, Any]:
        """The customer completes the session; `processing` for an async method on its way,
        `requires_payment_method` once it failed."""
        session = self.sessions[session_id]
        intent = fixture("stripe", "payment_intent.json")
        intent.update(
            id=self.new_id("pi_slotbook"),
            amount=session["amount_total"],
            amount_received=session["amount_total"] if intent_status == "succeeded" else 0,
            currency=session["currency"],
            metadata=session["metadata"],
            status=intent_status,
        )
        self.intents[intent["id"]] = intent
        paid = "paid" if intent_status == "succeeded" else "unpaid"
        session.update(status="complete", payment_status=paid, payment_intent=intent["id"])
        return session

    def event(self, kind: str, session_id: str, *, event_id: str | None = None) -> bytes:
        """The body Stripe posts for this event of the session (as it is now)."""
        return self._event(kind, self.sessions[session_id], event_id)

    def refund_event(self, kind: str, refund_id: str, *, event_id: str | None = None) -> bytes:
        """The body Stripe posts for this `refund.*` event (the refund as it is now)."""
        return self._event(kind, self.refunds[refund_id], event_id)

    def _event(self, kind: str, found: dict[str, Any], event_id: str | None) -> bytes:
        return self.envelope(
            event_id or self.new_id("evt_slotbook"),
            type=kind,
            created=int(time.time()),
            data={"object": dict(found)},
        )


def stripe_signed(
    body: bytes, *, at: int, secrets: tuple[str, ...] = (WEBHOOK_SECRET,)
) -> dict[str, str]:
    """The Stripe-Signature header Stripe sends: `t=...,v1=...` with one `v1` per secret
    (two while a secret is rolled), each made by the SDK's own signing code."""
    text = body.decode()
    entries = [stripe.WebhookSignature.generate_signature_header(text, s, at) for s in secrets]
    v1s = [entry.split(",", 1)[1] for entry in entries]
    return {"Stripe-Signature": ",".join([f"t={at}", *v1s])}


@asynccontextmanager
async def running_stripe(
    *, timeout_seconds: float = 5.0
) -> AsyncIterator[tuple[StripeStandIn, StripeGateway]]:
    """The stand-in on loopback and slotbook's adapter pointed at it."""

    def gateway_for(url: str) -> StripeGateway:
        return StripeGateway(
            secret_key=SECRET_KEY,
            webhook_secret=WEBHOOK_SECRET,
            api_base=url,
            timeout_seconds=timeout_seconds,
        )

    async with running(StripeStandIn(), gateway_for) as both:
        yield both
