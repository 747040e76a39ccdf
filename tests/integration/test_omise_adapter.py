"""Slotbook's Omise adapter against a stand-in of Omise's API on loopback: a card charge
from a token sent to 3-D Secure, a PromptPay charge and its QR, read back, refunded;
declines, refusals, outages and time-outs; and webhooks signed as Omise signs them."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

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
from tests.omise_stand_in import OTHER_SECRET, WEBHOOK_SECRET, omise_signed, running_omise

NOW = datetime.now(UTC).replace(microsecond=0)
RETURN_URL = "http://shop.test/returned"


def new_payment(**change: Any) -> CreatePayment:
    reference = uuid.uuid4()
    values: dict[str, Any] = {
        "reference": reference,
        "amount_minor": 150_050,
        "currency": "THB",
        "method": PaymentMethod.CARD,
        "description": "Thai massage, 60 minutes",
        "return_url": RETURN_URL,
        "notify_url": "http://shop.test/v1/webhooks/omise",
        "expires_at": NOW + timedelta(minutes=10),
        "idempotency_key": idempotency_key("create-payment", reference),
        "hold_id": uuid.uuid4(),
        "card_token": "tokn_test_5g5mep9cj8q5z5k4vwz",
    }
    return CreatePayment(**{**values, **change})


async def test_a_card_charge_from_a_token_goes_to_3_d_secure() -> None:
    async with running_omise() as (stand_in, gateway):
        request = new_payment()
        created = await gateway.create_payment(request)
        charge = stand_in.charges[created.gateway_payment_id]
        assert created.redirect_url == charge["authorize_uri"]
        sent = json.loads(stand_in.seen[0].body)
        assert sent == {
            "amount": 150_050,
            "currency": "thb",
            "description": "Thai massage, 60 minutes",
            "return_uri": RETURN_URL,
            "metadata": {"payment_id": str(request.reference), "hold_id": str(request.hold_id)},
            "card": request.card_token,
        }
        headers = stand_in.seen[0].headers
        assert headers["idempotency-key"] == request.idempotency_key
        assert headers["authorization"].startswith("Basic ")
        assert headers["omise-version"] == "2019-05-29"
        # Omise documents no idempotency keys: a retry makes a second charge of the payment
        again = await gateway.create_payment(request)
        assert again.gateway_payment_id != created.gateway_payment_id
        assert {c["metadata"]["payment_id"] for c in stand_in.charges.values()} == {
            str(request.reference)
        }
        state = await gateway.get_payment(created.gateway_payment_id)
        assert (state.status, state.amount_minor, state.currency, state.reference) == (
            GatewayPaymentStatus.PENDING,
            150_050,
            "THB",
            request.reference,
        )
        stand_in.complete(created.gateway_payment_id)
        assert (await gateway.get_payment(created.gateway_payment_id)).status == "succeeded"


async def test_a_promptpay_charge_shows_its_qr_and_cannot_be_withdrawn() -> None:
    async with running_omise() as (stand_in, gateway):
        created = await gateway.create_payment(
            new_payment(method=PaymentMethod.PROMPTPAY, card_token=None)
        )
        sent = json.loads(stand_in.seen[0].body)
        assert sent["source"] == {"type": "promptpay"}
        assert "card" not in sent
        charge = stand_in.charges[created.gateway_payment_id]
        qr = charge["source"]["scannable_code"]["image"]["download_uri"]
        assert created.redirect_url == qr
        state = await gateway.cancel_payment(created.gateway_payment_id, idempotency_key="k")
        assert state.status is GatewayPaymentStatus.PENDING  # still payable: nothing withdrawn
        stand_in.complete(created.gateway_payment_id)  # paid late: the late-payment rule
        state = await gateway.cancel_payment(created.gateway_payment_id, idempotency_key="k")
        assert state.status is GatewayPaymentStatus.SUCCEEDED


async def test_a_card_payment_without_a_token_is_refused_before_any_call() -> None:
    async with running_omise() as (stand_in, gateway):
        with pytest.raises(GatewayRefused, match="card token"):
            await gateway.create_payment(new_payment(card_token=None))
        assert stand_in.seen == []


async def test_a_declined_card_and_an_invalid_one_are_refused() -> None:
    async with running_omise() as (_stand_in, gateway):
        with pytest.raises(GatewayRefused, match="insufficient_fund"):
            await gateway.create_payment(new_payment(card_token="tokn_test_declined"))
        with pytest.raises(GatewayRefused, match="400 invalid_card"):
            await gateway.create_payment(new_payment(card_token="tokn_test_invalid"))
        with pytest.raises(GatewayRefused, match="404 not_found"):
            await gateway.get_payment("chrg_test_unknown")


async def test_outages_and_time_outs_are_unavailable() -> None:
    async with running_omise(timeout_seconds=0.3) as (stand_in, gateway):
        stand_in.fail_next(503, {})
        with pytest.raises(GatewayUnavailable, match="503"):
            await gateway.create_payment(new_payment())
        stand_in.fail_next(500, {"object": "error", "code": "internal_error", "message": "x"})
        with pytest.raises(GatewayUnavailable, match="internal_error"):
            await gateway.get_payment("chrg_test_any")
        stand_in.hang_next()
        with pytest.raises(GatewayUnavailable, match="unreachable"):
            await gateway.create_payment(new_payment())


async def test_a_refund_is_made_once_for_its_key() -> None:
    async with running_omise() as (stand_in, gateway):
        created = await gateway.create_payment(new_payment())
        stand_in.complete(created.gateway_payment_id)
        request = RefundRequest(created.gateway_payment_id, 150_050, "THB", "refund-key")
        first = await gateway.refund(request)
        assert await gateway.refund(request) == first  # found among the charge's refunds
        assert first.status is RefundStatus.SUCCEEDED
        charge = stand_in.charges[created.gateway_payment_id]
        assert charge["refunded_amount"] == 150_050
        assert [r["id"] for r in charge["refunds"]["data"]] == [first.gateway_refund_id]
        other = await gateway.refund(
            RefundRequest(created.gateway_payment_id, 50, "THB", "another-refund")
        )
        assert other.gateway_refund_id != first.gateway_refund_id


async def test_charge_complete_webhooks_verify_with_either_secret_during_a_roll() -> None:
    async with running_omise() as (stand_in, gateway):
        request = new_payment()
        created = await gateway.create_payment(request)
        charge = stand_in.complete(created.gateway_payment_id)
        body = stand_in.event("charge.complete", charge, event_id="evnt_test_1")
        at = int(NOW.timestamp())
        event = gateway.parse_webhook(omise_signed(body, at=at), body, now=NOW)
        assert (event.event_id, event.kind, event.gateway_payment_id, event.reference) == (
            "evnt_test_1",
            EventKind.PAYMENT_SUCCEEDED,
            created.gateway_payment_id,
            request.reference,
        )
        assert (event.amount_minor, event.currency) == (150_050, "THB")
        assert gateway.parse_webhook(omise_signed(body, at=at), body, now=NOW) == event
        for secrets in [(OTHER_SECRET, WEBHOOK_SECRET), (WEBHOOK_SECRET, OTHER_SECRET)]:
            rolled = omise_signed(body, at=at, secrets=secrets)
            assert "," in rolled["Omise-Signature"]
            assert gateway.parse_webhook(rolled, body, now=NOW) == event
        for headers, sent in [
            (omise_signed(body, at=at, secrets=(OTHER_SECRET,)), body),  # forged
            (omise_signed(body, at=at), body.replace(b"successful", b"failed")),  # altered
            (omise_signed(body, at=at - 301), body),  # stale
            (omise_signed(body, at=at + 301), body),
            ({"Omise-Signature": omise_signed(body, at=at)["Omise-Signature"]}, body),
            ({**omise_signed(body, at=at), "Omise-Signature-Timestamp": "soon"}, body),
            ({}, body),
        ]:
            with pytest.raises(InvalidSignature):
                gateway.parse_webhook(headers, sent, now=NOW)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("failed", EventKind.PAYMENT_FAILED),
        ("expired", EventKind.PAYMENT_CANCELLED),
        ("pending", EventKind.IGNORED),
    ],
)
async def test_what_a_charge_complete_says(status: str, expected: EventKind) -> None:
    async with running_omise() as (stand_in, gateway):
        created = await gateway.create_payment(new_payment(method=PaymentMethod.PROMPTPAY))
        body = stand_in.event(
            "charge.complete", stand_in.complete(created.gateway_payment_id, status)
        )
        headers = omise_signed(body, at=int(NOW.timestamp()))
        assert gateway.parse_webhook(headers, body, now=NOW).kind is expected


async def test_a_refund_event_names_its_charge_and_a_signed_mess_is_malformed() -> None:
    async with running_omise() as (stand_in, gateway):
        created = await gateway.create_payment(new_payment())
        stand_in.complete(created.gateway_payment_id)
        refunded = await gateway.refund(
            RefundRequest(created.gateway_payment_id, 150_050, "THB", "refund-key")
        )
        refund = {"object": "refund", "id": refunded.gateway_refund_id, "amount": 150_050}
        refund |= {"currency": "thb", "charge": created.gateway_payment_id}
        body = stand_in.event("refund.create", refund)
        at = int(NOW.timestamp())
        event = gateway.parse_webhook(omise_signed(body, at=at), body, now=NOW)
        assert (event.kind, event.gateway_payment_id, event.gateway_refund_id) == (
            EventKind.REFUND_SUCCEEDED,
            created.gateway_payment_id,
            refunded.gateway_refund_id,
        )
        for mess in [b"not json", b'{"id": "evnt_test_2", "key": "charge.complete"}']:
            with pytest.raises(MalformedWebhook):
                gateway.parse_webhook(omise_signed(mess, at=at), mess, now=NOW)
