"""The payment core flow over each real adapter: the sandbox gateway on loopback, and
stand-ins of Stripe's and Omise's APIs. The service starts the payment at the gateway, the
customer pays there, the gateway's signed webhook confirms the booking (once, however
often it comes); a payment that lands after its hold was released is refunded by the
outbox through the gateway. Services over real SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import pytest

from slotbook.adapters.clock import ManualClock
from slotbook.adapters.db.repos import payments as payment_repo
from slotbook.bootstrap import build_context, close_context
from slotbook.config import LatePaymentPolicy, Settings
from slotbook.domain.errors import GatewayRefused, GatewayUnavailable
from slotbook.domain.gateway import PaymentGateway, PaymentMethod
from slotbook.domain.model import Principal, Role, User
from slotbook.domain.payments import Payment
from slotbook.domain.states import BookingStatus, HoldStatus, PaymentStatus
from slotbook.service_layer import holds, obligations, payments, webhooks
from slotbook.service_layer.bookings import list_bookings
from slotbook.service_layer.context import Context
from slotbook.service_layer.gateways import Gateways
from slotbook.service_layer.ledger import ledger_summary
from tests import builders
from tests.conftest import START
from tests.omise_stand_in import OmiseStandIn, omise_signed, running_omise
from tests.sandbox_helpers import Receiver, RunningSandbox, receiving, running_sandbox
from tests.stripe_stand_in import StripeStandIn, running_stripe, stripe_signed

PRICE = 45_000
Webhook = tuple[dict[str, str], bytes]


class Driver(Protocol):
    gateway: PaymentGateway

    async def pay(self, payment: Payment) -> Webhook:
        """The customer pays at the gateway; the webhook the gateway sends for it."""
        ...

    def refunds(self) -> int | None:
        """How many refunds the gateway made (None: not counted here)."""
        ...


@dataclass
class SandboxDriver:
    running: RunningSandbox
    receiver: Receiver
    gateway: PaymentGateway = field(init=False)

    def __post_init__(self) -> None:
        self.gateway = self.running.gateway

    async def pay(self, payment: Payment) -> Webhook:
        assert payment.gateway_payment_id
        before = len(self.receiver.received)
        await self.running.complete(payment.gateway_payment_id)
        sent = (await self.receiver.wait_for(before + 1))[before]
        return sent.headers, sent.body

    def refunds(self) -> int | None:
        return None


@dataclass
class StripeDriver:
    stand_in: StripeStandIn
    gateway: PaymentGateway
    clock: ManualClock

    async def pay(self, payment: Payment) -> Webhook:
        assert payment.gateway_payment_id
        self.stand_in.pay(payment.gateway_payment_id)
        body = self.stand_in.event("checkout.session.completed", payment.gateway_payment_id)
        return stripe_signed(body, at=int(self.clock.now().timestamp())), body

    def refunds(self) -> int | None:
        return len(self.stand_in.refunds)

    def withdrawn(self, payment: Payment) -> bool:
        assert payment.gateway_payment_id
        return bool(self.stand_in.sessions[payment.gateway_payment_id]["status"] == "expired")


@dataclass
class OmiseDriver:
    stand_in: OmiseStandIn
    gateway: PaymentGateway
    clock: ManualClock

    async def pay(self, payment: Payment) -> Webhook:
        assert payment.gateway_payment_id
        charge = self.stand_in.complete(payment.gateway_payment_id)
        body = self.stand_in.event("charge.complete", charge)
        return omise_signed(body, at=int(self.clock.now().timestamp())), body

    def refunds(self) -> int | None:
        return sum(1 for c in self.stand_in.charges.values() if c.get("refunded_amount"))


@dataclass
class Flow:
    ctx: Context
    driver: Driver
    method: PaymentMethod


# Omise charges a card from a token made in the customer's browser, which this flow has no
# browser to make; its card charges are covered against the stand-in in test_omise_adapter.
CASES = [
    ("sandbox", PaymentMethod.CARD),
    ("sandbox", PaymentMethod.PROMPTPAY),
    ("stripe", PaymentMethod.CARD),
    ("stripe", PaymentMethod.PROMPTPAY),
    ("omise", PaymentMethod.PROMPTPAY),
]


@pytest.fixture
def late_policy() -> LatePaymentPolicy:
    """SLOTBOOK_LATE_PAYMENT_POLICY of the flow (a test may parametrise it)."""
    return LatePaymentPolicy.REFUND


@pytest.fixture(params=CASES, ids=[f"{g}-{m.value}" for g, m in CASES])
async def flow(
    request: pytest.FixtureRequest,
    settings: Settings,
    clock: ManualClock,
    tmp_path: Path,
    late_policy: LatePaymentPolicy,
) -> AsyncIterator[Flow]:
    name, method = request.param
    settings = settings.model_copy(update={"late_payment_policy": late_policy})
    async with AsyncExitStack() as stack:
        driver: Driver
        if name == "sandbox":
            receiver, url = await stack.enter_async_context(receiving())
            settings = settings.model_copy(update={"public_url": url.split("/webhooks")[0]})
            running = await stack.enter_async_context(running_sandbox(tmp_path / "sb.db", clock))
            driver = SandboxDriver(running, receiver)
        elif name == "stripe":
            stand_in, gateway = await stack.enter_async_context(running_stripe())
            driver = StripeDriver(stand_in, gateway, clock)
        else:
            stand_in, gateway = await stack.enter_async_context(running_omise())
            driver = OmiseDriver(stand_in, gateway, clock)
        gateways = Gateways(dict.fromkeys(PaymentMethod, driver.gateway))
        ctx = await build_context(settings, clock=clock, gateways=gateways)
        stack.push_async_callback(close_context, ctx)
        yield Flow(ctx, driver, method)


async def start(flow: Flow) -> tuple[Payment, User]:
    _, slots = await builders.provider_with_slots(
        flow.ctx, first=START.replace(day=2), count=1, price_minor=PRICE
    )
    payment, customer = await builders.paying(flow.ctx, slots[0], flow.method)
    assert payment.gateway == flow.driver.gateway.name
    assert payment.gateway_payment_id
    assert payment.redirect_url
    return payment, customer


async def deliver(flow: Flow, webhook: Webhook) -> None:
    headers, body = webhook
    name = flow.driver.gateway.name
    await webhooks.handle_webhook(flow.ctx, gateway_name=name, headers=headers, body=body)


async def status_of(ctx: Context, payment: Payment) -> PaymentStatus:
    async with ctx.db.read() as conn:
        found = await payment_repo.get_payment(conn, payment.id)
    assert found is not None
    return found.status


async def drain(ctx: Context) -> None:
    while await obligations.carry_out_due(ctx):
        pass


async def test_paid_at_the_gateway_its_webhook_confirms_the_booking_once(flow: Flow) -> None:
    payment, customer = await start(flow)
    webhook = await flow.driver.pay(payment)
    await deliver(flow, webhook)
    await deliver(flow, webhook)  # redelivered: nothing happens twice

    assert await status_of(flow.ctx, payment) is PaymentStatus.SUCCEEDED
    hold = await holds.get_hold(flow.ctx, hold_id=payment.hold_id, customer_id=customer.id)
    assert hold.status is HoldStatus.CONFIRMED
    summary = await ledger_summary(flow.ctx)
    assert (summary.payments_succeeded_minor, summary.escrow_held_minor) == (PRICE, PRICE)
    assert summary.balanced


async def test_a_payment_after_its_hold_was_released_is_refunded_at_the_gateway(
    flow: Flow,
) -> None:
    payment, customer = await start(flow)
    await holds.cancel_hold(flow.ctx, hold_id=payment.hold_id, customer_id=customer.id)
    webhook = await flow.driver.pay(payment)  # the money moved before the withdrawal landed
    await drain(flow.ctx)  # withdrawing it finds it paid: late, refunded
    await deliver(flow, webhook)  # its webhook, late as well, changes nothing
    await drain(flow.ctx)

    assert await status_of(flow.ctx, payment) is PaymentStatus.REFUNDED
    assert flow.driver.refunds() in (None, 1)
    summary = await ledger_summary(flow.ctx)
    assert summary.escrow_held_minor == 0
    assert summary.balanced


async def test_released_its_payment_is_withdrawn_or_a_late_payment_refunded(flow: Flow) -> None:
    payment, customer = await start(flow)
    await holds.cancel_hold(flow.ctx, hold_id=payment.hold_id, customer_id=customer.id)
    await drain(flow.ctx)
    assert await status_of(flow.ctx, payment) is PaymentStatus.CANCELLED
    if isinstance(flow.driver, StripeDriver):
        assert flow.driver.withdrawn(payment)  # the Checkout Session expired by slotbook
        return
    # the QR was shown (or the sandbox is told to settle it): the customer pays anyway
    await deliver(flow, await flow.driver.pay(payment))
    await drain(flow.ctx)
    assert await status_of(flow.ctx, payment) is PaymentStatus.REFUNDED
    assert flow.driver.refunds() in (None, 1)
    assert (await ledger_summary(flow.ctx)).balanced


@pytest.mark.parametrize("late_policy", [LatePaymentPolicy.CONFIRM_IF_FREE])
async def test_a_late_payment_books_the_slot_if_it_is_still_free(flow: Flow) -> None:
    payment, customer = await start(flow)
    await holds.cancel_hold(flow.ctx, hold_id=payment.hold_id, customer_id=customer.id)
    webhook = await flow.driver.pay(payment)  # paid before the withdrawal reached it
    await drain(flow.ctx)
    await deliver(flow, webhook)
    await drain(flow.ctx)
    assert await status_of(flow.ctx, payment) is PaymentStatus.SUCCEEDED
    hold = await holds.get_hold(flow.ctx, hold_id=payment.hold_id, customer_id=customer.id)
    principal = Principal(user_id=customer.id, role=Role.CUSTOMER)
    found = await list_bookings(flow.ctx, principal=principal)
    assert [(b.slot_id, b.status) for b in found] == [(hold.slot_id, BookingStatus.CONFIRMED)]
    assert flow.driver.refunds() in (None, 0)
    summary = await ledger_summary(flow.ctx)
    assert (summary.escrow_held_minor, summary.balanced) == (PRICE, True)


async def test_another_method_replaces_the_pending_payment(flow: Flow) -> None:
    first, customer = await start(flow)
    other = PaymentMethod.PROMPTPAY if flow.method is PaymentMethod.CARD else PaymentMethod.CARD
    if isinstance(flow.driver, OmiseDriver):
        other = PaymentMethod.PROMPTPAY  # a card needs a token from the browser
    second = await payments.start_payment(
        flow.ctx, hold_id=first.hold_id, customer_id=customer.id, method=other, return_url=None
    )
    await drain(flow.ctx)
    assert await status_of(flow.ctx, first) is PaymentStatus.CANCELLED
    assert await status_of(flow.ctx, second) is PaymentStatus.PENDING
    if isinstance(flow.driver, StripeDriver):
        assert flow.driver.withdrawn(first)
        assert not flow.driver.withdrawn(second)


@pytest.mark.parametrize("flow", CASES[:1], ids=["sandbox-card"], indirect=True)
async def test_a_second_payment_the_sandbox_refuses_or_cannot_take_leaves_the_first(
    flow: Flow,
) -> None:
    """The sandbox refuses PromptPay in USD (502), then its merchant API is down (503):
    the card payment started before stays pending there and here, and paying it books."""
    assert isinstance(flow.driver, SandboxDriver)
    _, slots = await builders.provider_with_slots(
        flow.ctx, first=START.replace(day=2), count=1, price_minor=PRICE, currency="USD"
    )
    first, customer = await builders.paying(flow.ctx, slots[0], PaymentMethod.CARD)
    again = {"hold_id": first.hold_id, "customer_id": customer.id, "return_url": None}
    with pytest.raises(GatewayRefused):
        await payments.start_payment(flow.ctx, method=PaymentMethod.PROMPTPAY, **again)
    control = flow.driver.running.http
    await control.put("/control/merchant-api", json={"mode": "down"})
    with pytest.raises(GatewayUnavailable):
        await payments.start_payment(flow.ctx, method=PaymentMethod.CARD, **again)
    await control.put("/control/merchant-api", json={"mode": "up"})
    await drain(flow.ctx)  # nothing of the first is withdrawn at the gateway

    assert await status_of(flow.ctx, first) is PaymentStatus.PENDING
    await deliver(flow, await flow.driver.pay(first))
    assert await status_of(flow.ctx, first) is PaymentStatus.SUCCEEDED
    hold = await holds.get_hold(flow.ctx, hold_id=first.hold_id, customer_id=customer.id)
    assert hold.status is HoldStatus.CONFIRMED
    summary = await ledger_summary(flow.ctx)
    assert (summary.escrow_held_minor, summary.refunded_minor, summary.balanced) == (
        PRICE,
        0,
        True,
    )


STRIPE_CASES = [c for c in CASES if c[0] == "stripe"]


@pytest.mark.parametrize(
    "flow", STRIPE_CASES, ids=[f"{g}-{m.value}" for g, m in STRIPE_CASES], indirect=True
)
async def test_a_refund_stripe_finishes_later_is_closed_by_its_webhook_once(flow: Flow) -> None:
    assert isinstance(flow.driver, StripeDriver)
    stand_in = flow.driver.stand_in
    stand_in.refund_status = "pending"
    payment, customer = await start(flow)
    await holds.cancel_hold(flow.ctx, hold_id=payment.hold_id, customer_id=customer.id)
    await flow.driver.pay(payment)  # paid before the withdrawal landed: owed back
    await drain(flow.ctx)
    assert await status_of(flow.ctx, payment) is PaymentStatus.SUCCEEDED  # refund under way
    (refund,) = stand_in.refunds.values()
    assert refund["metadata"] == {"payment_id": str(payment.id)}

    refund["status"] = "succeeded"
    webhook = stand_in.refund_event("refund.updated", refund["id"])
    signed = stripe_signed(webhook, at=int(flow.ctx.clock.now().timestamp())), webhook
    await deliver(flow, signed)
    await deliver(flow, signed)  # redelivered: the debt is closed once

    assert await status_of(flow.ctx, payment) is PaymentStatus.REFUNDED
    assert len(stand_in.refunds) == 1
    summary = await ledger_summary(flow.ctx)
    assert (summary.escrow_held_minor, summary.balanced) == (0, True)


@pytest.mark.parametrize("flow", STRIPE_CASES[:1], ids=["stripe-card"], indirect=True)
async def test_a_partial_refund_made_elsewhere_does_not_close_the_full_one(flow: Flow) -> None:
    assert isinstance(flow.driver, StripeDriver)
    stand_in = flow.driver.stand_in
    stand_in.refund_status = "pending"
    payment, customer = await start(flow)
    await holds.cancel_hold(flow.ctx, hold_id=payment.hold_id, customer_id=customer.id)
    await flow.driver.pay(payment)
    await drain(flow.ctx)
    (refund,) = stand_in.refunds.values()
    refund.update(status="succeeded", amount=PRICE // 2)  # not the refund slotbook asked for
    webhook = stand_in.refund_event("refund.updated", refund["id"])
    await deliver(flow, (stripe_signed(webhook, at=int(flow.ctx.clock.now().timestamp())), webhook))
    assert await status_of(flow.ctx, payment) is PaymentStatus.SUCCEEDED
