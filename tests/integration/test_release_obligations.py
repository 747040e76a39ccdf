"""Every release of a hold with a pending payment writes, in its own transaction, the
obligation to withdraw that payment at the gateway; the outbox worker carries it out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from slotbook.adapters.clock import ManualClock
from slotbook.adapters.db.payment_tables import outbox
from slotbook.adapters.db.repos import payments as payment_repo
from slotbook.domain.gateway import GatewayPaymentStatus
from slotbook.domain.payments import Payment
from slotbook.domain.slots import Slot
from slotbook.domain.states import PaymentStatus
from slotbook.service_layer import holds, obligations
from slotbook.service_layer.context import Context
from slotbook.service_layer.sweeper import sweep_once
from tests import builders
from tests.conftest import START
from tests.fakes import FakeGateway

DAY = START + timedelta(days=1)


@pytest.fixture
async def slots(ctx: Context) -> list[Slot]:
    _, found = await builders.provider_with_slots(ctx, first=DAY, count=3)
    return found


async def obligations_written(ctx: Context) -> int:
    async with ctx.db.read() as conn:
        return int(await conn.scalar(select(func.count()).select_from(outbox)) or 0)


async def assert_withdrawn(ctx: Context, gateway: FakeGateway, payment: Payment) -> None:
    while await obligations.carry_out_due(ctx):
        pass
    async with ctx.db.read() as conn:
        found = await payment_repo.get_payment(conn, payment.id)
    assert found is not None
    assert found.status is PaymentStatus.CANCELLED
    assert payment.gateway_payment_id in gateway.cancel_calls
    assert payment.gateway_payment_id
    assert gateway.payments[payment.gateway_payment_id].status is GatewayPaymentStatus.CANCELLED


async def test_a_superseded_holds_payment_is_withdrawn(
    ctx: Context, gateway: FakeGateway, slots: list[Slot]
) -> None:
    payment, customer = await builders.paying(ctx, slots[0])
    await holds.place_hold(ctx, slot_id=slots[1].id, customer_id=customer.id)
    await assert_withdrawn(ctx, gateway, payment)


async def test_an_expired_hold_taken_over_has_its_payment_withdrawn(
    ctx: Context, gateway: FakeGateway, clock: ManualClock, slots: list[Slot]
) -> None:
    payment, _ = await builders.paying(ctx, slots[0])
    clock.advance(ctx.settings.hold_ttl_seconds)
    rival = await builders.customer(ctx)
    assert (await holds.place_hold(ctx, slot_id=slots[0].id, customer_id=rival.id)).created
    await assert_withdrawn(ctx, gateway, payment)


async def test_a_swept_holds_payment_is_withdrawn(
    ctx: Context, gateway: FakeGateway, clock: ManualClock, slots: list[Slot]
) -> None:
    payment, _ = await builders.paying(ctx, slots[0])
    clock.advance(ctx.settings.hold_ttl_seconds)
    await sweep_once(ctx)  # releases it and carries out what that obliges
    await assert_withdrawn(ctx, gateway, payment)


async def test_a_cancelled_holds_payment_is_withdrawn(
    ctx: Context, gateway: FakeGateway, slots: list[Slot]
) -> None:
    payment, customer = await builders.paying(ctx, slots[0])
    await holds.cancel_hold(ctx, hold_id=payment.hold_id, customer_id=customer.id)
    await assert_withdrawn(ctx, gateway, payment)


async def test_a_release_without_a_pending_payment_obliges_nothing(
    ctx: Context, slots: list[Slot]
) -> None:
    customer = await builders.customer(ctx)
    first = await holds.place_hold(ctx, slot_id=slots[0].id, customer_id=customer.id)
    await holds.place_hold(ctx, slot_id=slots[1].id, customer_id=customer.id)
    await holds.cancel_hold(ctx, hold_id=first.hold.id, customer_id=customer.id)
    assert await obligations_written(ctx) == 0
