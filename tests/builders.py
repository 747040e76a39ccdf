"""Build test data through the service layer, as a user of the API would."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from uuid import UUID

from slotbook.domain.gateway import PaymentMethod
from slotbook.domain.model import Role, User
from slotbook.domain.payments import Payment
from slotbook.domain.slots import Slot
from slotbook.service_layer import accounts, holds, payments, providers
from slotbook.service_layer.context import Context


async def customer(ctx: Context, name: str = "cust") -> User:
    email = f"{name}-{uuid.uuid4().hex[:8]}@example.com"
    signed = await accounts.sign_up(
        ctx, email=email, password="password123", name=name, role=Role.CUSTOMER
    )
    return signed.user


async def provider_with_slots(
    ctx: Context,
    *,
    category: str = "massage",
    first: datetime,
    count: int = 4,
    minutes: int = 60,
    price_minor: int = 45_000,
    currency: str = "THB",
) -> tuple[UUID, list[Slot]]:
    """A provider selling one service, with `count` back-to-back slots from `first`."""
    email = f"prov-{uuid.uuid4().hex[:8]}@example.com"
    signed = await accounts.sign_up(
        ctx, email=email, password="password123", name="Provider", role=Role.PROVIDER
    )
    provider_id = signed.user.provider_id
    assert provider_id is not None
    service = await providers.add_service(
        ctx,
        provider_id=provider_id,
        name="Thai massage",
        category=category,
        duration_minutes=minutes,
        price_minor=price_minor,
        currency=currency,
    )
    starts = [first + timedelta(minutes=minutes * i) for i in range(count)]
    slots = await providers.add_slots(
        ctx, provider_id=provider_id, service_id=service.id, starts_at=starts
    )
    return provider_id, slots


async def paying(
    ctx: Context, slot: Slot, method: PaymentMethod = PaymentMethod.CARD
) -> tuple[Payment, User]:
    """A new customer holding `slot`, with a payment started for it by `method`."""
    buyer = await customer(ctx)
    placed = await holds.place_hold(ctx, slot_id=slot.id, customer_id=buyer.id)
    payment = await payments.start_payment(
        ctx, hold_id=placed.hold.id, customer_id=buyer.id, method=method, return_url=None
    )
    return payment, buyer
