"""Slotbook's Stripe adapter against a stand-in of Stripe's API on loopback, the official SDK
pointed at it through its base address: a Checkout Session per payment, read back with its
PaymentIntent, expired when withdrawn, refunded; refusals, outages and time-outs; and
webhooks signed by the SDK's own signing code."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

import pytest

from slotbook.domain.errors import (
    GatewayRefused,
    GatewayUnavailable,
    InvalidSignature,
    MalformedWebhook,
)
from slotbook.domain.gateway import (
    CreatePayment,
    EventKind,
    GatewayPaymentStatus,
    PaymentMethod,
    RefundRequest,
    RefundStatus,
    idempotency_key,
)
from tests.stand_ins import fixture
from tests.stripe_stand_in import WEBHOOK_SECRET, running_stripe, stripe_signed

NOW = datetime.now(UTC).replace(microsecond=0)


def new_payment(**change: Any) -> CreatePayment:
    reference = uuid.uuid4()
    values: dict[str, Any] = {
        "reference": reference,
        "amount_minor": 150_050,
        "currency": "THB",
        "method": PaymentMethod.CARD,
        "description": "Thai massage, 60 minutes",
        "return_url": "http://shop.test/returned",
        "notify_url": "http://shop.test/v1/webhooks/stripe",
        "expires_at": NOW + timedelta(minutes=10),
        "idempotency_key": idempotency_key("create-payment", reference),
        "hold_id": uuid.uuid4(),
    }
    return CreatePayment(**{**values, **change})


async def test_a_payment_is_a_checkout_session_keyed_and_tagged_with_our_ids() -> None:
    async with running_stripe() as (stand_in, gateway):
        request = new_payment(method=PaymentMethod.PROMPTPAY)
        created = await gateway.create_payment(request)
        again = await gateway.create_payment(request)  # a retry: the same session
        assert again == created
        assert len(stand_in.sessions) == 1
        assert created.redirect_url == f"{stand_in.url}/c/pay/{created.gateway_payment_id}"
        sent = dict(parse_qsl(stand_in.seen[0].body.decode()))
        assert sent["mode"] == "payment"
        assert sent["payment_method_types[0]"] == "promptpay"
        assert sent["line_items[0][price_data][currency]"] == "thb"
        assert sent["line_items[0][price_data][unit_amount]"] == "150050"
        assert sent["client_reference_id"] == str(request.reference)
        for scope in ("metadata", "payment_intent_data[metadata]"):
            assert sent[f"{scope}[payment_id]"] == str(request.reference)
            assert sent[f"{scope}[hold_id]"] == str(request.hold_id)
        assert stand_in.idempotency_keys() == [request.idempotency_key] * 2
        state = await gateway.get_payment(created.gateway_payment_id)
        assert (state.status, state.amount_minor, state.currency, state.reference) == (
            GatewayPaymentStatus.PENDING,
            150_050,
            "THB",
            request.reference,
        )


async def test_promptpay_is_for_thb_only() -> None:
    async with running_stripe() as (stand_in, gateway):
        with pytest.raises(GatewayRefused, match="THB only"):
            await gateway.create_payment(
                new_payment(method=PaymentMethod.PROMPTPAY, currency="USD")
            )
        assert stand_in.seen == []


async def test_a_paid_session_reads_succeeded_and_its_expiry_is_refused_quietly() -> None:
    async with running_stripe() as (stand_in, gateway):
        created = await gateway.create_payment(new_payment())
        stand_in.pay(created.gateway_payment_id)
        state = await gateway.cancel_payment(created.gateway_payment_id, idempotency_key="k-1")
        assert state.status is GatewayPaymentStatus.SUCCEEDED  # paid just before
        assert stand_in.sessions[created.gateway_payment_id]["status"] == "complete"


async def test_withdrawing_an_open_session_expires_it() -> None:
    async with running_stripe() as (stand_in, gateway):
        created = await gateway.create_payment(new_payment())
        state = await gateway.cancel_payment(created.gateway_payment_id, idempotency_key="k-2")
        assert state.status is GatewayPaymentStatus.CANCELLED
        assert stand_in.sessions[created.gateway_payment_id]["status"] == "expired"
        assert "k-2" in stand_in.idempotency_keys()
        again = await gateway.cancel_payment(created.gateway_payment_id, idempotency_key="k-2")
        assert again.status is GatewayPaymentStatus.CANCELLED


@pytest.mark.parametrize(
    ("intent_status", "expected"),
    [("processing", GatewayPaymentStatus.PENDING), ("requires_payment_method", "failed")],
)
async def test_an_async_payment_is_pending_until_it_fails(
    intent_status: str, expected: str
) -> None:
    async with running_stripe() as (stand_in, gateway):
        created = await gateway.create_payment(new_payment(method=PaymentMethod.PROMPTPAY))
        stand_in.pay(created.gateway_payment_id, intent_status=intent_status)
        assert (await gateway.get_payment(created.gateway_payment_id)).status == expected


async def test_a_refund_goes_to_the_sessions_payment_intent_once() -> None:
    async with running_stripe() as (stand_in, gateway):
        created = await gateway.create_payment(new_payment())
        stand_in.pay(created.gateway_payment_id)
        request = RefundRequest(created.gateway_payment_id, 150_050, "THB", "refund-key")
        first = await gateway.refund(request)
        second = await gateway.refund(request)
        assert first == second
        assert first.status is RefundStatus.SUCCEEDED
        (refund,) = stand_in.refunds.values()
        intent = stand_in.sessions[created.gateway_payment_id]["payment_intent"]
        assert (refund["payment_intent"], refund["amount"]) == (intent, 150_050)


async def test_a_pending_refund_is_read_again_after_a_replay() -> None:
    async with running_stripe() as (stand_in, gateway):
        created = await gateway.create_payment(new_payment())
        stand_in.pay(created.gateway_payment_id)
        stand_in.refund_status = "pending"
        request = RefundRequest(created.gateway_payment_id, 150_050, "THB", "refund-key")
        assert (await gateway.refund(request)).status is RefundStatus.PENDING
        (refund,) = stand_in.refunds.values()
        refund["status"] = "succeeded"  # settled at Stripe; the replay still says pending
        assert (await gateway.refund(request)).status is RefundStatus.SUCCEEDED


async def test_a_declined_card_is_refused_and_an_outage_unavailable() -> None:
    async with running_stripe() as (stand_in, gateway):
        stand_in.fail_next(402, fixture("stripe", "card_declined.json"))
        with pytest.raises(GatewayRefused, match="402 card_declined"):
            await gateway.create_payment(new_payment())
        stand_in.fail_next(500, fixture("stripe", "api_error.json"))
        with pytest.raises(GatewayUnavailable, match="500"):
            await gateway.create_payment(new_payment())
        stand_in.fail_next(429, {"error": {"type": "invalid_request_error", "code": "rate_limit"}})
        with pytest.raises(GatewayUnavailable):
            await gateway.get_payment("cs_test_any")
        with pytest.raises(GatewayRefused, match="404"):
            await gateway.get_payment("cs_test_unknown")


async def test_a_stripe_that_does_not_answer_in_time_is_unavailable() -> None:
    async with running_stripe(timeout_seconds=0.3) as (stand_in, gateway):
        stand_in.hang_next()
        with pytest.raises(GatewayUnavailable, match="unreachable"):
            await gateway.create_payment(new_payment())


async def test_webhooks_verify_with_the_sdk_and_within_300_s_of_our_clock() -> None:
    async with running_stripe() as (stand_in, gateway):
        request = new_payment()
        created = await gateway.create_payment(request)
        session_id = created.gateway_payment_id
        stand_in.pay(session_id)
        body = stand_in.event("checkout.session.completed", session_id, event_id="evt_1")
        at = int(NOW.timestamp())
        event = gateway.parse_webhook(stripe_signed(body, at=at), body, now=NOW)
        assert (event.event_id, event.kind, event.gateway_payment_id, event.reference) == (
            "evt_1",
            EventKind.PAYMENT_SUCCEEDED,
            session_id,
            request.reference,
        )
        assert (event.amount_minor, event.currency) == (150_050, "THB")
        # the same signed delivery again reads the same event: recorded once by its id
        assert gateway.parse_webhook(stripe_signed(body, at=at), body, now=NOW) == event
        rolled = stripe_signed(body, at=at, secrets=("whsec_theoldone", WEBHOOK_SECRET))
        assert gateway.parse_webhook(rolled, body, now=NOW) == event
        for headers, sent in [
            (stripe_signed(body, at=at, secrets=("whsec_forged",)), body),
            (stripe_signed(body, at=at), body.replace(b"150050", b"1")),  # replayed, altered
            (stripe_signed(body, at=at - 301), body),  # stale
            (stripe_signed(body, at=at + 301), body),  # from the future
            ({}, body),
            ({"Stripe-Signature": "garbage"}, body),
        ]:
            with pytest.raises(InvalidSignature):
                gateway.parse_webhook(headers, sent, now=NOW)


@pytest.mark.parametrize(
    ("kind", "intent_status", "expected"),
    [
        ("checkout.session.completed", "processing", EventKind.IGNORED),
        ("checkout.session.async_payment_succeeded", "succeeded", EventKind.PAYMENT_SUCCEEDED),
        ("checkout.session.async_payment_failed", "requires_payment_method", "payment.failed"),
        ("customer.created", "succeeded", EventKind.IGNORED),
    ],
)
async def test_the_checkout_events_slotbook_acts_on(
    kind: str, intent_status: str, expected: str
) -> None:
    async with running_stripe() as (stand_in, gateway):
        created = await gateway.create_payment(new_payment(method=PaymentMethod.PROMPTPAY))
        stand_in.pay(created.gateway_payment_id, intent_status=intent_status)
        body = stand_in.event(kind, created.gateway_payment_id)
        headers = stripe_signed(body, at=int(NOW.timestamp()))
        assert gateway.parse_webhook(headers, body, now=NOW).kind == expected


async def test_an_expired_session_event_reads_cancelled() -> None:
    async with running_stripe() as (stand_in, gateway):
        created = await gateway.create_payment(new_payment())
        await gateway.cancel_payment(created.gateway_payment_id, idempotency_key="k")
        body = stand_in.event("checkout.session.expired", created.gateway_payment_id)
        event = gateway.parse_webhook(stripe_signed(body, at=int(NOW.timestamp())), body, now=NOW)
        assert event.kind is EventKind.PAYMENT_CANCELLED


@pytest.mark.parametrize(
    ("kind", "status", "expected"),
    [
        ("refund.updated", "succeeded", EventKind.REFUND_SUCCEEDED),
        ("refund.created", "succeeded", EventKind.REFUND_SUCCEEDED),
        ("refund.created", "pending", EventKind.IGNORED),
        ("refund.updated", "requires_action", EventKind.IGNORED),
        ("refund.failed", "failed", EventKind.REFUND_FAILED),
        ("refund.updated", "canceled", EventKind.REFUND_FAILED),
    ],
)
async def test_refund_events_name_our_payment_from_the_refunds_metadata(
    kind: str, status: str, expected: EventKind
) -> None:
    async with running_stripe() as (stand_in, gateway):
        payment = new_payment()
        created = await gateway.create_payment(payment)
        stand_in.pay(created.gateway_payment_id)
        stand_in.refund_status = "pending"
        request = RefundRequest(
            created.gateway_payment_id, 150_050, "THB", "refund-key", reference=payment.reference
        )
        result = await gateway.refund(request)
        stand_in.refunds[result.gateway_refund_id]["status"] = status
        body = stand_in.refund_event(kind, result.gateway_refund_id)
        event = gateway.parse_webhook(stripe_signed(body, at=int(NOW.timestamp())), body, now=NOW)
        assert event.kind is expected
        if expected is not EventKind.IGNORED:
            assert (event.reference, event.gateway_refund_id) == (
                payment.reference,
                result.gateway_refund_id,
            )
            assert (event.amount_minor, event.currency, event.gateway_payment_id) == (
                150_050,
                "THB",
                None,
            )


async def test_a_refund_event_without_its_refund_is_malformed() -> None:
    async with running_stripe() as (stand_in, gateway):
        created = await gateway.create_payment(new_payment())
        body = stand_in.event("refund.updated", created.gateway_payment_id)  # a session
        with pytest.raises(MalformedWebhook):
            gateway.parse_webhook(stripe_signed(body, at=int(NOW.timestamp())), body, now=NOW)
