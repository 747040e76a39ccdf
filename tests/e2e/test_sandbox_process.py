"""The sandbox gateway as processes: `slotbook sandbox-gateway` alone, delivering a signed
webhook over HTTP and carrying on after a restart, and `slotbook serve` with the gateway
mounted under /sandbox."""

from __future__ import annotations

import signal
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from standardwebhooks import Webhook

from slotbook.adapters.gateways.sandbox import SandboxGateway
from slotbook.domain.errors import GatewayUnavailable
from slotbook.domain.gateway import (
    CreatePayment,
    EventKind,
    GatewayPaymentStatus,
    PaymentMethod,
    idempotency_key,
)
from tests.e2e.servers import WEBHOOK_SECRET, Launcher
from tests.sandbox_helpers import RETURN_URL, Receiver, receiving

pytestmark = pytest.mark.e2e


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    async with receiving() as found:
        yield found


def payment(notify_url: str) -> CreatePayment:
    reference = uuid.uuid4()
    return CreatePayment(
        reference=reference,
        amount_minor=90_000,
        currency="THB",
        method=PaymentMethod.CARD,
        description="Haircut",
        return_url=RETURN_URL,
        notify_url=notify_url,
        expires_at=datetime.now(UTC) + timedelta(minutes=10),
        idempotency_key=idempotency_key("create-payment", reference),
    )


def adapter(base_url: str) -> SandboxGateway:
    return SandboxGateway(base_url=f"{base_url}/sandbox", webhook_secret=WEBHOOK_SECRET)


async def test_the_gateway_alone_delivers_a_signed_webhook(
    launch: Launcher, receiver: tuple[Receiver, str]
) -> None:
    inbox, notify_url = receiver
    server = await launch.sandbox()
    gateway = adapter(server.url)
    try:
        request = payment(notify_url)
        created = await gateway.create_payment(request)
        async with httpx.AsyncClient(timeout=10) as http:
            page = await http.get(created.redirect_url)
            assert page.status_code == 200
            assert "฿900.00" in page.text
            completed = await http.post(
                f"{server.url}/sandbox/payments/{created.gateway_payment_id}/complete",
                json={"outcome": "succeeded"},
            )
            assert completed.status_code == 200
        (webhook,) = await inbox.wait_for(1)
        Webhook(WEBHOOK_SECRET).verify(webhook.body, webhook.headers)
        event = gateway.parse_webhook(webhook.headers, webhook.body, now=datetime.now(UTC))
        state = await gateway.get_payment(created.gateway_payment_id)
    finally:
        await gateway.aclose()
    assert event.kind is EventKind.PAYMENT_SUCCEEDED
    assert (event.reference, event.gateway_payment_id) == (
        request.reference,
        state.gateway_payment_id,
    )
    assert state.status is GatewayPaymentStatus.SUCCEEDED
    assert any("sandbox gateway on http://127.0.0.1:" in line for line in server.process.lines)


async def test_a_stopped_gateway_is_unavailable_and_a_restarted_one_carries_on(
    launch: Launcher, receiver: tuple[Receiver, str]
) -> None:
    inbox, notify_url = receiver
    first = await launch.sandbox()
    gateway = adapter(first.url)
    try:
        created = await gateway.create_payment(payment(notify_url))
        async with httpx.AsyncClient(timeout=10) as http:
            answer = await http.post(
                f"{first.url}/sandbox/payments/{created.gateway_payment_id}/complete",
                json={"outcome": "declined", "webhook": {"delay_ms": 1500}},
            )
            assert answer.status_code == 200
        # a graceful stop (uvicorn with one process re-raises the SIGTERM it handled)
        assert await launch.stop(first.process) == -signal.SIGTERM, first.process.tail()
        assert any(
            r["event"] == "Application shutdown complete." for r in first.process.log_records()
        )
        with pytest.raises(GatewayUnavailable):
            await gateway.get_payment(created.gateway_payment_id)
    finally:
        await gateway.aclose()
    assert inbox.received == []  # stopped before its webhook was due
    second = await launch.sandbox()
    (webhook,) = await inbox.wait_for(1)
    again = adapter(second.url)
    try:
        event = again.parse_webhook(webhook.headers, webhook.body, now=datetime.now(UTC))
    finally:
        await again.aclose()
    assert (event.kind, event.gateway_payment_id) == (
        EventKind.PAYMENT_FAILED,
        created.gateway_payment_id,
    )


async def test_serve_mounts_the_gateway_under_sandbox(
    launch: Launcher, receiver: tuple[Receiver, str]
) -> None:
    _, notify_url = receiver
    server = await launch.server(await launch.sqlite())
    gateway = adapter(server.url)
    try:
        created = await gateway.create_payment(payment(notify_url))
        assert created.redirect_url.startswith(f"{server.url}/sandbox/pay/sbx_pay_")
    finally:
        await gateway.aclose()
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        paths = (await http.get("/openapi.json")).json()["paths"]
        assert (await http.get("/sandbox/healthz")).status_code == 200
    assert "/v1/holds" in paths
    for path in ("/sandbox/payments/{payment_id}", "/sandbox/payments/{payment_id}/complete"):
        assert path in paths
    assert (launch.workdir / "sandbox-gateway.db").exists()  # beside the service's database
