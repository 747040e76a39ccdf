"""A service costs more than zero: a customer pays the whole price up front, and no gateway
takes a payment of nothing. A free service is refused when it is added; a hold of a free
slot made before that rule takes no payment, answered as a clean 409 that changes
nothing, by the service, the API and the pay page (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import Table, func, select

from slotbook.adapters.db.payment_tables import outbox, payments
from slotbook.adapters.db.tables import services, slots
from slotbook.domain.errors import HoldNotPayable, InvalidRequest
from slotbook.domain.gateway import PaymentMethod
from slotbook.domain.slots import Slot
from slotbook.domain.states import HoldStatus
from slotbook.service_layer import holds, providers
from slotbook.service_layer import payments as payment_service
from slotbook.service_layer.context import Context
from tests import builders
from tests.conftest import START
from tests.e2e.http_helpers import assert_problem, bearer, sign_up
from tests.integration.test_web_saved_pages import log_in

DAY = START + timedelta(days=1)


async def older_free_slot(ctx: Context) -> Slot:
    """A slot of a service priced 0, as the rules before this one let a provider make."""
    _, found = await builders.provider_with_slots(ctx, first=DAY, count=1)
    async with ctx.db.write() as conn:
        await conn.execute(
            services.update().where(services.c.id == found[0].service_id).values(price_minor=0)
        )
        await conn.execute(slots.update().where(slots.c.id == found[0].id).values(price_minor=0))
    return found[0]


async def rows(ctx: Context, table: Table) -> int:
    async with ctx.db.read() as conn:
        return int(await conn.scalar(select(func.count()).select_from(table)) or 0)


@pytest.mark.parametrize("price", [0, -1])
async def test_a_service_priced_at_nothing_is_refused(ctx: Context, price: int) -> None:
    provider_id, _ = await builders.provider_with_slots(ctx, first=DAY, count=1)
    with pytest.raises(InvalidRequest) as refused:
        await providers.add_service(
            ctx,
            provider_id=provider_id,
            name="Cut",
            category="hair",
            duration_minutes=30,
            price_minor=price,
            currency="THB",
        )
    assert refused.value.loc == ("body", "price_minor")
    assert await rows(ctx, services) == 1  # the builder's own


async def test_a_hold_of_a_free_slot_takes_no_payment_and_changes_nothing(ctx: Context) -> None:
    slot = await older_free_slot(ctx)
    buyer = await builders.customer(ctx)
    placed = await holds.place_hold(ctx, slot_id=slot.id, customer_id=buyer.id)
    assert placed.hold.amount_minor == 0

    with pytest.raises(HoldNotPayable):
        await payment_service.start_payment(
            ctx,
            hold_id=placed.hold.id,
            customer_id=buyer.id,
            method=PaymentMethod.CARD,
            return_url=None,
        )
    assert (await rows(ctx, payments), await rows(ctx, outbox)) == (0, 0)
    hold = await holds.get_hold(ctx, hold_id=placed.hold.id, customer_id=buyer.id)
    assert hold.status is HoldStatus.ACTIVE


async def test_over_http_a_free_service_is_422_and_paying_a_free_hold_409(
    ctx: Context, client: httpx.AsyncClient
) -> None:
    provider = bearer((await sign_up(client, role="provider"))["access_token"])
    body = {"name": "Cut", "category": "hair", "duration_minutes": 30, "currency": "THB"}
    free = await client.post(
        "/v1/providers/me/services", json={**body, "price_minor": 0}, headers=provider
    )
    problem = assert_problem(free, 422)
    assert [e["loc"] for e in problem["errors"]] == [["body", "price_minor"]]

    slot = await older_free_slot(ctx)
    customer = bearer((await sign_up(client))["access_token"])
    hold = await client.post("/v1/holds", json={"slot_id": str(slot.id)}, headers=customer)
    assert hold.status_code == 201, hold.text
    paying = await client.post(
        f"/v1/holds/{hold.json()['id']}/payments", json={"method": "card"}, headers=customer
    )
    assert_problem(paying, 409, "/hold-not-payable")
    assert await rows(ctx, payments) == 0


async def test_the_pay_page_says_a_free_time_cannot_be_paid_for(
    ctx: Context, client: httpx.AsyncClient
) -> None:
    slot = await older_free_slot(ctx)
    alice = await builders.customer(ctx, "alice")
    csrf = await log_in(client, alice.email)
    booked = await client.post("/book", data={"slot_id": str(slot.id), "csrf": csrf})
    assert booked.status_code == 303
    paying = await client.post(
        f"{booked.headers['location']}/pay", data={"method": "card", "csrf": csrf}
    )
    assert paying.status_code == 409
    assert "This time cannot be paid for" in paying.text
    assert await rows(ctx, payments) == 0
