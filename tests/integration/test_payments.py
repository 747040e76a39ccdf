"""From a hold to a confirmed booking, and every way it can go otherwise (services over
real SQLite and PostgreSQL, the gateway kept in memory)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import Table, func, select

from slotbook.adapters.clock import ManualClock
from slotbook.adapters.db.payment_tables import ledger_entries, refunds
from slotbook.adapters.db.repos import payments as payment_repo
from slotbook.bootstrap import build_context, close_context
from slotbook.config import LatePaymentPolicy, Settings
from slotbook.domain.errors import (
    GatewayRefused,
    GatewayUnavailable,
    HoldNotActive,
    PaymentNotFound,
)
from slotbook.domain.gateway import (
    CreatePayment,
    EventKind,
    GatewayEvent,
    GatewayPaymentStatus,
    PaymentMethod,
)
from slotbook.domain.model import Principal, Role, User
from slotbook.domain.payments import Payment, SuccessFate
from slotbook.domain.slots import Slot
from slotbook.domain.states import (
    BookingStatus,
    HoldStatus,
    PaymentStatus,
    ReleaseReason,
    SlotStatus,
)
from slotbook.service_layer import accounts, catalog, holds, obligations, payments
from slotbook.service_layer import payment_outcomes as outcomes
from slotbook.service_layer.bookings import list_bookings
from slotbook.service_layer.context import Context
from slotbook.service_layer.ledger import ledger_summary
from tests import builders
from tests.conftest import START
from tests.fakes import FakeGateway

DAY = START + timedelta(days=1)
PRICE = 45_000


@dataclass
class Held:
    customer: User
    slot: Slot
    hold_id: uuid.UUID


async def held(ctx: Context, slot: Slot | None = None) -> Held:
    if slot is None:
        _, slots = await builders.provider_with_slots(ctx, first=DAY, count=3, price_minor=PRICE)
        slot = slots[0]
    customer = await builders.customer(ctx)
    placed = await holds.place_hold(ctx, slot_id=slot.id, customer_id=customer.id)
    return Held(customer, slot, placed.hold.id)


async def start(ctx: Context, h: Held, method: PaymentMethod = PaymentMethod.CARD) -> Payment:
    return await payments.start_payment(
        ctx, hold_id=h.hold_id, customer_id=h.customer.id, method=method, return_url=None
    )


def event(payment: Payment, kind: EventKind) -> GatewayEvent:
    return GatewayEvent(
        event_id=f"evt_{uuid.uuid4().hex}",
        kind=kind,
        gateway_payment_id=payment.gateway_payment_id,
        reference=payment.id,
        amount_minor=payment.amount_minor,
        currency=payment.currency,
    )


def report(payment: Payment, webhook: GatewayEvent | None = None) -> outcomes.Report:
    return outcomes.Report(
        payment_id=payment.id,
        gateway="fake",
        gateway_payment_id=payment.gateway_payment_id,
        amount_minor=payment.amount_minor,
        event=webhook,
    )


async def succeed(ctx: Context, gateway: FakeGateway, payment: Payment) -> SuccessFate | None:
    assert payment.gateway_payment_id is not None
    gateway.settle(payment.gateway_payment_id, GatewayPaymentStatus.SUCCEEDED)
    return await outcomes.payment_succeeded(
        ctx, report(payment, event(payment, EventKind.PAYMENT_SUCCEEDED))
    )


async def status_of(ctx: Context, payment: Payment) -> PaymentStatus:
    async with ctx.db.read() as conn:
        found = await payment_repo.get_payment(conn, payment.id)
    assert found is not None
    return found.status


async def count(ctx: Context, table: Table) -> int:
    async with ctx.db.read() as conn:
        return int(await conn.scalar(select(func.count()).select_from(table)) or 0)


async def drain(ctx: Context) -> None:
    """Carry out every obligation due now, and what those oblige in turn."""
    while await obligations.carry_out_due(ctx):
        pass


async def test_a_payment_in_time_confirms_the_booking_with_its_escrow(
    ctx: Context, gateway: FakeGateway
) -> None:
    h = await held(ctx)
    payment = await start(ctx, h)
    assert payment.status is PaymentStatus.PENDING
    assert payment.amount_minor == PRICE
    assert payment.redirect_url
    assert payment.gateway_payment_id

    assert await succeed(ctx, gateway, payment) is SuccessFate.CONFIRM

    hold = await holds.get_hold(ctx, hold_id=h.hold_id, customer_id=h.customer.id)
    assert hold.status is HoldStatus.CONFIRMED
    assert hold.booking_id is not None
    assert (await catalog.get_slot(ctx, slot_id=h.slot.id)).status is SlotStatus.BOOKED
    summary = await ledger_summary(ctx)
    assert (summary.payments_succeeded_minor, summary.escrow_held_minor) == (PRICE, PRICE)
    assert summary.balanced


async def test_a_decline_releases_the_hold_and_writes_no_money(
    ctx: Context, gateway: FakeGateway
) -> None:
    h = await held(ctx)
    payment = await start(ctx, h)
    assert payment.gateway_payment_id
    gateway.settle(payment.gateway_payment_id, GatewayPaymentStatus.FAILED)
    assert await outcomes.payment_failed(
        ctx, report(payment, event(payment, EventKind.PAYMENT_FAILED))
    )

    hold = await holds.get_hold(ctx, hold_id=h.hold_id, customer_id=h.customer.id)
    assert (hold.status, hold.release_reason) == (HoldStatus.RELEASED, ReleaseReason.PAYMENT_FAILED)
    assert (await catalog.get_slot(ctx, slot_id=h.slot.id)).status is SlotStatus.AVAILABLE
    assert await count(ctx, ledger_entries) == 0
    assert await status_of(ctx, payment) is PaymentStatus.FAILED


async def test_a_duplicate_success_changes_nothing(ctx: Context, gateway: FakeGateway) -> None:
    h = await held(ctx)
    payment = await start(ctx, h)
    first = event(payment, EventKind.PAYMENT_SUCCEEDED)
    assert payment.gateway_payment_id
    gateway.settle(payment.gateway_payment_id, GatewayPaymentStatus.SUCCEEDED)
    assert await outcomes.payment_succeeded(ctx, report(payment, first)) is SuccessFate.CONFIRM
    entries = await count(ctx, ledger_entries)

    assert await outcomes.payment_succeeded(ctx, report(payment, first)) is None  # same id
    again = event(payment, EventKind.PAYMENT_SUCCEEDED)  # the same news, a new event id
    assert await outcomes.payment_succeeded(ctx, report(payment, again)) is (
        SuccessFate.ALREADY_RECORDED
    )
    assert await count(ctx, ledger_entries) == entries
    assert len(await list_bookings(ctx, principal=_customer(h))) == 1


async def test_a_failure_after_the_success_changes_nothing(
    ctx: Context, gateway: FakeGateway
) -> None:
    h = await held(ctx)
    payment = await start(ctx, h)
    await succeed(ctx, gateway, payment)
    assert not await outcomes.payment_failed(
        ctx, report(payment, event(payment, EventKind.PAYMENT_FAILED))
    )
    assert await status_of(ctx, payment) is PaymentStatus.SUCCEEDED
    hold = await holds.get_hold(ctx, hold_id=h.hold_id, customer_id=h.customer.id)
    assert hold.status is HoldStatus.CONFIRMED


async def test_a_success_after_the_hold_ran_out_is_refunded_in_full(
    ctx: Context, gateway: FakeGateway, clock: ManualClock
) -> None:
    h = await held(ctx)
    payment = await start(ctx, h)
    clock.advance(ctx.settings.hold_ttl_seconds + 1)
    rival = await held(ctx, h.slot)  # the next customer takes the slot over

    assert await succeed(ctx, gateway, payment) is SuccessFate.REFUND
    await drain(ctx)

    assert await status_of(ctx, payment) is PaymentStatus.REFUNDED
    theirs = await holds.get_hold(ctx, hold_id=rival.hold_id, customer_id=rival.customer.id)
    assert theirs.status is HoldStatus.ACTIVE
    summary = await ledger_summary(ctx)
    assert (summary.refunded_minor, summary.refunds_pending_minor) == (PRICE, 0)
    assert summary.escrow_held_minor == 0
    assert summary.balanced


async def test_with_confirm_if_free_a_late_success_books_the_still_free_slot(
    settings: Settings, clock: ManualClock, gateway: FakeGateway
) -> None:
    changed = settings.model_copy(update={"late_payment_policy": LatePaymentPolicy.CONFIRM_IF_FREE})
    ctx = await build_context(changed, clock=clock, gateways=gateway.gateways())
    try:
        h = await held(ctx)
        payment = await start(ctx, h)
        clock.advance(ctx.settings.hold_ttl_seconds + 1)
        assert await succeed(ctx, gateway, payment) is SuccessFate.CONFIRM_FREE_SLOT
        found = await list_bookings(ctx, principal=_customer(h))
        assert [(b.slot_id, b.status) for b in found] == [(h.slot.id, BookingStatus.CONFIRMED)]
        assert (await catalog.get_slot(ctx, slot_id=h.slot.id)).status is SlotStatus.BOOKED
        assert (await ledger_summary(ctx)).escrow_held_minor == PRICE
    finally:
        await close_context(ctx)


async def test_a_late_success_booking_the_slot_withdraws_the_expired_hold_it_releases(
    settings: Settings, clock: ManualClock, gateway: FakeGateway
) -> None:
    """confirm_if_free: the late payer's booking releases another customer's expired hold
    still on the slot; that hold's pending payment is withdrawn at the gateway, as after
    any release."""
    changed = settings.model_copy(update={"late_payment_policy": LatePaymentPolicy.CONFIRM_IF_FREE})
    ctx = await build_context(changed, clock=clock, gateways=gateway.gateways())
    try:
        alice = await held(ctx)
        late = await start(ctx, alice)
        clock.advance(ctx.settings.hold_ttl_seconds + 1)
        bob = await held(ctx, alice.slot)  # takes the slot over, starts paying, runs out
        pending = await start(ctx, bob)
        clock.advance(ctx.settings.hold_ttl_seconds + 1)

        assert await succeed(ctx, gateway, late) is SuccessFate.CONFIRM_FREE_SLOT
        theirs = await holds.get_hold(ctx, hold_id=bob.hold_id, customer_id=bob.customer.id)
        assert theirs.status is HoldStatus.RELEASED
        await drain(ctx)
        assert await status_of(ctx, pending) is PaymentStatus.CANCELLED
        assert (await ledger_summary(ctx)).escrow_held_minor == PRICE
    finally:
        await close_context(ctx)


async def test_switching_method_cancels_the_first_and_a_second_success_is_refunded(
    ctx: Context, gateway: FakeGateway
) -> None:
    h = await held(ctx)
    card = await start(ctx, h, PaymentMethod.CARD)
    promptpay = await start(ctx, h, PaymentMethod.PROMPTPAY)
    assert await status_of(ctx, card) is PaymentStatus.CANCELLED
    assert card.gateway_payment_id
    gateway.settle(card.gateway_payment_id, GatewayPaymentStatus.SUCCEEDED)  # paid just before
    await drain(ctx)  # the cancellation reaches the gateway, which says it was paid

    assert await succeed(ctx, gateway, promptpay) is SuccessFate.REFUND
    await drain(ctx)
    assert len(await list_bookings(ctx, principal=_customer(h))) == 1
    statuses = {await status_of(ctx, card), await status_of(ctx, promptpay)}
    assert statuses == {PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED}
    summary = await ledger_summary(ctx)
    assert (summary.escrow_held_minor, summary.refunded_minor) == (PRICE, PRICE)
    assert summary.balanced


@pytest.mark.parametrize("failure", [GatewayRefused, GatewayUnavailable])
async def test_a_second_payment_the_gateway_cannot_start_leaves_the_first_payable(
    ctx: Context, gateway: FakeGateway, failure: type[Exception]
) -> None:
    """Switching method changes nothing until the new payment exists at the gateway: a
    refused or failed start keeps the earlier payment pending, here and there."""
    gateway.takes_card_token = True  # so a declined card token is a refusal
    gateway.declined_tokens = frozenset({"tokn_declined"})
    h = await held(ctx)
    first = await start(ctx, h, PaymentMethod.PROMPTPAY)
    gateway.down = failure is GatewayUnavailable
    with pytest.raises(failure):
        await payments.start_payment(
            ctx,
            hold_id=h.hold_id,
            customer_id=h.customer.id,
            method=PaymentMethod.CARD,
            return_url=None,
            card_token="tokn_declined" if failure is GatewayRefused else "tokn_ok",
        )
    gateway.down = False
    await drain(ctx)

    assert await status_of(ctx, first) is PaymentStatus.PENDING
    assert first.gateway_payment_id not in gateway.cancel_calls
    found = await payments.payments_of_hold(ctx, h.hold_id)
    assert sorted((p.id == first.id, p.status) for p, _ in found) == [
        (False, PaymentStatus.CANCELLED),  # the one the gateway did not start
        (True, PaymentStatus.PENDING),
    ]
    assert await succeed(ctx, gateway, first) is SuccessFate.CONFIRM
    hold = await holds.get_hold(ctx, hold_id=h.hold_id, customer_id=h.customer.id)
    assert hold.status is HoldStatus.CONFIRMED


async def test_the_first_payment_paid_while_the_second_starts_books_and_withdraws_the_second(
    ctx: Context, gateway: FakeGateway
) -> None:
    """The earlier payment stays pending while the new one is created at the gateway: its
    success then confirms the hold and cancels the new one, which is withdrawn at the
    gateway once its id is known (the first withdrawal found none to withdraw)."""
    h = await held(ctx)
    first = await start(ctx, h, PaymentMethod.CARD)

    async def first_paid_meanwhile(_: CreatePayment) -> None:
        gateway.while_creating = None
        assert await succeed(ctx, gateway, first) is SuccessFate.CONFIRM
        await drain(ctx)

    gateway.while_creating = first_paid_meanwhile
    second = await start(ctx, h, PaymentMethod.PROMPTPAY)
    assert second.status is PaymentStatus.CANCELLED
    await drain(ctx)
    assert second.gateway_payment_id in gateway.cancel_calls
    assert await status_of(ctx, first) is PaymentStatus.SUCCEEDED
    hold = await holds.get_hold(ctx, hold_id=h.hold_id, customer_id=h.customer.id)
    assert hold.status is HoldStatus.CONFIRMED

    assert await succeed(ctx, gateway, second) is SuccessFate.REFUND  # paid anyway: back
    await drain(ctx)
    summary = await ledger_summary(ctx)
    assert (summary.escrow_held_minor, summary.refunded_minor) == (PRICE, PRICE)
    assert summary.balanced


async def test_a_decline_of_the_first_payment_while_the_second_opens_keeps_the_hold(
    ctx: Context, gateway: FakeGateway
) -> None:
    """The customer switched method: the first payment, still pending while the second is
    opened at the gateway, is declined meanwhile. The hold stays with the attempt under
    way, which then books it."""
    h = await held(ctx)
    first = await start(ctx, h, PaymentMethod.CARD)

    async def first_declined_meanwhile(_: CreatePayment) -> None:
        gateway.while_creating = None
        assert first.gateway_payment_id is not None
        gateway.settle(first.gateway_payment_id, GatewayPaymentStatus.FAILED)
        assert await outcomes.payment_failed(
            ctx, report(first, event(first, EventKind.PAYMENT_FAILED))
        )

    gateway.while_creating = first_declined_meanwhile
    second = await start(ctx, h, PaymentMethod.PROMPTPAY)
    assert second.status is PaymentStatus.PENDING
    assert await status_of(ctx, first) is PaymentStatus.FAILED
    hold = await holds.get_hold(ctx, hold_id=h.hold_id, customer_id=h.customer.id)
    assert hold.status is HoldStatus.ACTIVE

    assert await succeed(ctx, gateway, second) is SuccessFate.CONFIRM
    hold = await holds.get_hold(ctx, hold_id=h.hold_id, customer_id=h.customer.id)
    assert hold.status is HoldStatus.CONFIRMED


async def test_no_success_by_the_deadline_releases_the_hold_unconfirmed(
    ctx: Context, gateway: FakeGateway, clock: ManualClock
) -> None:
    h = await held(ctx)
    payment = await start(ctx, h)
    await payments.mark_returned(ctx, payment_id=payment.id, customer_id=h.customer.id)
    clock.advance(ctx.settings.payment_confirm_timeout_seconds - 0.5)
    await drain(ctx)
    assert await status_of(ctx, payment) is PaymentStatus.PENDING  # not yet

    clock.advance(1)
    await drain(ctx)
    hold = await holds.get_hold(ctx, hold_id=h.hold_id, customer_id=h.customer.id)
    assert hold.release_reason is ReleaseReason.PAYMENT_UNCONFIRMED
    assert await status_of(ctx, payment) is PaymentStatus.CANCELLED
    assert payment.gateway_payment_id in gateway.cancel_calls

    assert await succeed(ctx, gateway, payment) is SuccessFate.REFUND  # late, never lost
    await drain(ctx)
    assert await status_of(ctx, payment) is PaymentStatus.REFUNDED


async def test_the_deadline_finds_a_success_the_webhook_did_not_bring(
    ctx: Context, gateway: FakeGateway, clock: ManualClock
) -> None:
    h = await held(ctx)
    payment = await start(ctx, h)
    await payments.mark_returned(ctx, payment_id=payment.id, customer_id=h.customer.id)
    assert payment.gateway_payment_id
    gateway.settle(payment.gateway_payment_id, GatewayPaymentStatus.SUCCEEDED)  # webhook lost
    clock.advance(ctx.settings.payment_confirm_timeout_seconds)
    await drain(ctx)
    hold = await holds.get_hold(ctx, hold_id=h.hold_id, customer_id=h.customer.id)
    assert hold.status is HoldStatus.CONFIRMED


async def test_the_gateway_down_at_the_start_keeps_the_hold(
    ctx: Context, gateway: FakeGateway
) -> None:
    h = await held(ctx)
    gateway.down = True
    with pytest.raises(GatewayUnavailable):
        await start(ctx, h)
    hold = await holds.get_hold(ctx, hold_id=h.hold_id, customer_id=h.customer.id)
    assert hold.status is HoldStatus.ACTIVE
    gateway.down = False
    assert (await start(ctx, h)).status is PaymentStatus.PENDING


async def test_a_refund_due_while_the_gateway_is_down_goes_through_once_it_is_back(
    ctx: Context, gateway: FakeGateway, clock: ManualClock
) -> None:
    h = await held(ctx)
    payment = await start(ctx, h)
    clock.advance(ctx.settings.hold_ttl_seconds + 1)
    await succeed(ctx, gateway, payment)
    gateway.down = True
    await drain(ctx)
    assert await status_of(ctx, payment) is PaymentStatus.SUCCEEDED
    assert (await ledger_summary(ctx)).refunds_pending_minor == PRICE

    gateway.down = False
    clock.advance(ctx.settings.outbox_max_backoff_seconds * 1.25)
    await drain(ctx)
    assert await status_of(ctx, payment) is PaymentStatus.REFUNDED
    assert await count(ctx, refunds) == 1


async def test_a_hold_that_is_not_live_takes_no_payment(ctx: Context, clock: ManualClock) -> None:
    h = await held(ctx)
    clock.advance(ctx.settings.hold_ttl_seconds)
    with pytest.raises(HoldNotActive):
        await start(ctx, h)


async def test_another_customers_payment_is_not_found(ctx: Context) -> None:
    h = await held(ctx)
    payment = await start(ctx, h)
    stranger = await builders.customer(ctx)
    with pytest.raises(PaymentNotFound):
        await payments.get_payment(ctx, payment_id=payment.id, customer_id=stranger.id)


def _customer(h: Held) -> Principal:
    return Principal(h.customer.id, Role.CUSTOMER)


async def test_the_ledger_summary_keeps_each_currency_apart(
    ctx: Context, gateway: FakeGateway, clock: ManualClock, client: httpx.AsyncClient
) -> None:
    """A THB booking, a USD one and a late USD payment refunded: each currency has its own
    figures and balances; the top-level amounts add no THB to USD."""
    usd = 50_000
    thb = await held(ctx)
    assert await succeed(ctx, gateway, await start(ctx, thb)) is SuccessFate.CONFIRM
    _, dollar_slots = await builders.provider_with_slots(
        ctx, first=DAY, count=2, price_minor=usd, currency="USD"
    )
    booked = await held(ctx, dollar_slots[0])
    assert await succeed(ctx, gateway, await start(ctx, booked)) is SuccessFate.CONFIRM
    late = await held(ctx, dollar_slots[1])
    payment = await start(ctx, late)
    clock.advance(ctx.settings.hold_ttl_seconds + 1)
    assert await succeed(ctx, gateway, payment) is SuccessFate.REFUND
    await drain(ctx)

    summary = await ledger_summary(ctx)
    assert [(c.currency, c.payments_succeeded_minor, c.balanced) for c in summary.currencies] == [
        ("THB", PRICE, True),
        ("USD", 2 * usd, True),
    ]
    dollars = summary.currencies[1]
    assert (dollars.escrow_held_minor, dollars.refunded_minor) == (usd, usd)
    assert summary.balanced
    assert summary.payments_succeeded_minor is None  # no THB + USD sum

    admin = await accounts.create_admin(
        ctx, email=f"admin-{uuid.uuid4().hex[:8]}@example.com", password="admin-password"
    )
    token = accounts.issue_token(ctx, admin)
    answer = await client.get(
        "/v1/admin/ledger/summary", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    amounts = ("payments_succeeded_minor", "escrow_held_minor", "refunded_minor")
    assert [body[name] for name in amounts] == [None, None, None]
    assert (body["balanced"], body["currency"]) == (True, None)
    assert body["currencies"] == [
        {
            "currency": "THB",
            "payments_succeeded_minor": PRICE,
            "escrow_held_minor": PRICE,
            "released_to_providers_minor": 0,
            "platform_fees_minor": 0,
            "refunded_minor": 0,
            "refunds_pending_minor": 0,
            "balanced": True,
        },
        {
            "currency": "USD",
            "payments_succeeded_minor": 2 * usd,
            "escrow_held_minor": usd,
            "released_to_providers_minor": 0,
            "platform_fees_minor": 0,
            "refunded_minor": usd,
            "refunds_pending_minor": 0,
            "balanced": True,
        },
    ]
