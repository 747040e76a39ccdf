"""What slotbook's sandbox adapter sends: every changing call carries the request's
idempotency key as `Idempotency-Key`, reads carry none, ids are quoted into the path."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from slotbook.adapters.gateways.sandbox import SandboxGateway
from slotbook.domain.errors import GatewayUnavailable
from slotbook.domain.gateway import CreatePayment, PaymentMethod, RefundRequest
from tests.sandbox_helpers import RETURN_URL, WEBHOOK_SECRET, receiving


async def test_changing_calls_carry_their_idempotency_keys() -> None:
    async with receiving() as (recorder, url):
        base = url.rsplit("/webhooks", 1)[0] + "/sandbox"
        adapter = SandboxGateway(base_url=base, webhook_secret=WEBHOOK_SECRET)
        reference = uuid.uuid4()
        calls = [
            adapter.create_payment(
                CreatePayment(
                    reference, 100, "THB", PaymentMethod.PROMPTPAY, "x", RETURN_URL,
                    "http://shop.test/hook", datetime(2030, 1, 1, tzinfo=UTC), "key-create",
                )
            ),
            adapter.cancel_payment("sbx_pay_1", idempotency_key="key-cancel"),
            adapter.refund(RefundRequest("sbx_pay_1", 100, "THB", idempotency_key="key-refund")),
            adapter.get_payment("sbx/pay 1"),
        ]  # fmt: skip
        try:
            for call in calls:  # the recorder answers an empty 200: unreadable, so unavailable
                try:
                    await call
                except GatewayUnavailable:
                    continue
                raise AssertionError("an empty answer was taken for a payment")
        finally:
            await adapter.aclose()
    sent = [(r.method, r.path, r.headers.get("idempotency-key")) for r in recorder.received]
    assert sent == [
        ("POST", "/sandbox/payments", "key-create"),
        ("POST", "/sandbox/payments/sbx_pay_1/cancel", "key-cancel"),
        ("POST", "/sandbox/payments/sbx_pay_1/refunds", "key-refund"),
        ("GET", "/sandbox/payments/sbx%2Fpay%201", None),  # one path segment, quoted
    ]
    created = json.loads(recorder.received[0].body)
    assert created == {
        "reference": str(reference),
        "amount_minor": 100,
        "currency": "THB",
        "method": "promptpay",
        "description": "x",
        "return_url": RETURN_URL,
        "notify_url": "http://shop.test/hook",
        "expires_at": "2030-01-01T00:00:00+00:00",
    }
    assert json.loads(recorder.received[2].body) == {"amount_minor": 100, "currency": "THB"}
