"""Payments, bookings and the ledger summary over HTTP (in-process app, both databases,
the gateway kept in memory; the sandbox gateway's own suite runs it as a process)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from slotbook.adapters.clock import ManualClock
from slotbook.api.app import create_app
from slotbook.config import Settings
from slotbook.domain.gateway import EventKind, GatewayEvent, GatewayPaymentStatus
from slotbook.service_layer import accounts, obligations
from slotbook.service_layer import payment_outcomes as outcomes
from slotbook.service_layer.context import Context
from tests.conftest import START
from tests.e2e.http_helpers import assert_problem, bearer, massage_slots, sign_up
from tests.fakes import FakeGateway

DAY = START + timedelta(days=1)
PRICE = 45_000


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Tokens that last while a test moves the clock on to the slots' day (DAY), where
    bookings can be completed (an hour by default)."""
    return settings.model_copy(update={"access_token_ttl_seconds": 3 * 86_400})


@pytest.fixture
async def api(ctx: Context) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(context=ctx, run_sweeper_in_process=False)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://slotbook.test") as c:
        yield c


@pytest.fixture
async def provider(api: httpx.AsyncClient) -> dict[str, str]:
    signed = await sign_up(api, role="provider")
    return bearer(signed["access_token"])


@pytest.fixture
async def slot_ids(api: httpx.AsyncClient, provider: dict[str, str]) -> list[str]:
    starts = [(DAY + timedelta(hours=i)).isoformat() for i in range(3)]
    return await massage_slots(api, provider, starts, PRICE)


async def hold_for(api: httpx.AsyncClient, slot_id: str) -> tuple[dict[str, str], str]:
    customer = await sign_up(api)
    headers = bearer(customer["access_token"])
    hold = await api.post("/v1/holds", json={"slot_id": slot_id}, headers=headers)
    assert hold.status_code == 201, hold.text
    return headers, str(hold.json()["id"])


async def pay(api: httpx.AsyncClient, headers: dict[str, str], hold_id: str, **body: Any) -> Any:
    answer = await api.post(
        f"/v1/holds/{hold_id}/payments", json={"method": "card", **body}, headers=headers
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


async def settle(ctx: Context, gateway: FakeGateway, payment: dict[str, Any]) -> None:
    """The customer pays at the gateway and the gateway's webhook tells us."""
    gateway.settle(payment["gateway_payment_id"], GatewayPaymentStatus.SUCCEEDED)
    event = GatewayEvent(
        event_id=f"evt_{uuid.uuid4().hex}",
        kind=EventKind.PAYMENT_SUCCEEDED,
        gateway_payment_id=payment["gateway_payment_id"],
        reference=uuid.UUID(payment["id"]),
        amount_minor=payment["amount_minor"],
        currency=payment["currency"],
    )
    report = outcomes.Report(
        payment_id=uuid.UUID(payment["id"]),
        gateway=payment["gateway"],
        gateway_payment_id=payment["gateway_payment_id"],
        amount_minor=payment["amount_minor"],
        event=event,
    )
    await outcomes.payment_succeeded(ctx, report)


async def test_a_payment_answers_its_contract_shape(
    api: httpx.AsyncClient, slot_ids: list[str]
) -> None:
    headers, hold_id = await hold_for(api, slot_ids[0])
    payment = await pay(api, headers, hold_id, return_url="https://shop.example/back")
    assert set(payment) >= {
        "id",
        "hold_id",
        "gateway",
        "gateway_payment_id",
        "method",
        "status",
        "amount_minor",
        "currency",
        "redirect_url",
        "created_at",
    }
    assert (payment["status"], payment["amount_minor"], payment["currency"]) == (
        "pending",
        PRICE,
        "THB",
    )
    assert payment["created_at"].endswith("Z")
    read = await api.get(f"/v1/payments/{payment['id']}", headers=headers)
    assert read.json() == payment
    hold = await api.get(f"/v1/holds/{hold_id}", headers=headers)
    assert [p["id"] for p in hold.json()["payments"]] == [payment["id"]]


async def test_paying_confirms_a_booking_a_provider_completes(
    api: httpx.AsyncClient,
    ctx: Context,
    clock: ManualClock,
    gateway: FakeGateway,
    provider: dict[str, str],
    slot_ids: list[str],
) -> None:
    headers, hold_id = await hold_for(api, slot_ids[0])
    payment = await pay(api, headers, hold_id)
    await settle(ctx, gateway, payment)

    waited = await api.get(f"/v1/payments/{payment['id']}", params={"wait": 1}, headers=headers)
    assert waited.json()["status"] == "succeeded"
    hold = (await api.get(f"/v1/holds/{hold_id}", headers=headers)).json()
    assert hold["status"] == "confirmed"
    booking = (await api.get(f"/v1/bookings/{hold['booking_id']}", headers=headers)).json()
    assert booking["escrow"] == {"status": "held", "amount_minor": PRICE}
    assert booking["status"] == "confirmed"

    listed = (await api.get("/v1/bookings", headers=provider)).json()["bookings"]
    assert listed == [booking]
    own = await api.get("/v1/providers/me/bookings", headers=provider)
    assert own.json() == {"bookings": [booking]}
    early = await api.post(f"/v1/bookings/{booking['id']}/complete", headers=provider)
    assert_problem(early, 409, "/booking-not-started")
    clock.set(DAY)  # the slot starts: the service can be delivered
    done = await api.post(f"/v1/bookings/{booking['id']}/complete", headers=provider)
    assert done.status_code == 200, done.text
    assert done.json()["escrow"]["status"] == "released"
    summary = await api.get("/v1/admin/ledger/summary", headers=await admin_headers(ctx))
    fee = PRICE * ctx.settings.platform_fee_bps // 10_000
    assert summary.json() == {
        "payments_succeeded_minor": PRICE,
        "escrow_held_minor": 0,
        "released_to_providers_minor": PRICE - fee,
        "platform_fees_minor": fee,
        "refunded_minor": 0,
        "refunds_pending_minor": 0,
        "balanced": True,
        "currency": "THB",
        "currencies": [
            {
                "currency": "THB",
                "payments_succeeded_minor": PRICE,
                "escrow_held_minor": 0,
                "released_to_providers_minor": PRICE - fee,
                "platform_fees_minor": fee,
                "refunded_minor": 0,
                "refunds_pending_minor": 0,
                "balanced": True,
            }
        ],
    }


async def test_a_cancelled_booking_is_refunded_and_its_slot_is_on_sale_again(
    api: httpx.AsyncClient, ctx: Context, gateway: FakeGateway, slot_ids: list[str]
) -> None:
    headers, hold_id = await hold_for(api, slot_ids[0])
    payment = await pay(api, headers, hold_id)
    await settle(ctx, gateway, payment)
    booking_id = (await api.get(f"/v1/holds/{hold_id}", headers=headers)).json()["booking_id"]
    cancelled = await api.post(f"/v1/bookings/{booking_id}/cancel", headers=headers)
    assert cancelled.json()["escrow"]["status"] == "refunded"
    assert (await api.get(f"/v1/slots/{slot_ids[0]}")).json()["status"] == "available"
    while await obligations.carry_out_due(ctx):
        pass
    read = (await api.get(f"/v1/payments/{payment['id']}", headers=headers)).json()
    assert read["status"] == "refunded"
    assert read["refund"]["status"] == "succeeded"
    again = await api.post(f"/v1/bookings/{booking_id}/cancel", headers=headers)
    assert_problem(again, 409, "/booking-not-active")


async def test_another_customers_payment_hold_and_booking_are_not_found(
    api: httpx.AsyncClient, ctx: Context, gateway: FakeGateway, slot_ids: list[str]
) -> None:
    headers, hold_id = await hold_for(api, slot_ids[0])
    payment = await pay(api, headers, hold_id)
    await settle(ctx, gateway, payment)
    booking_id = (await api.get(f"/v1/holds/{hold_id}", headers=headers)).json()["booking_id"]
    stranger = bearer((await sign_up(api))["access_token"])
    assert_problem(await api.get(f"/v1/payments/{payment['id']}", headers=stranger), 404)
    assert_problem(await api.post(f"/v1/payments/{payment['id']}/returned", headers=stranger), 404)
    assert_problem(
        await api.post(f"/v1/holds/{hold_id}/payments", json={"method": "card"}, headers=stranger),
        404,
    )
    assert_problem(await api.get(f"/v1/bookings/{booking_id}", headers=stranger), 404)
    assert_problem(await api.post(f"/v1/bookings/{booking_id}/cancel", headers=stranger), 404)
    assert (await api.get("/v1/bookings", headers=stranger)).json() == {"bookings": []}


async def test_bad_payment_requests_change_nothing(
    api: httpx.AsyncClient, slot_ids: list[str]
) -> None:
    headers, hold_id = await hold_for(api, slot_ids[0])
    for body in ({"method": "cash"}, {}, {"method": "card", "return_url": "javascript:x"}):
        answer = await api.post(f"/v1/holds/{hold_id}/payments", json=body, headers=headers)
        assert_problem(answer, 422)
    hold = (await api.get(f"/v1/holds/{hold_id}", headers=headers)).json()
    assert hold["payments"] == []
    answer = await api.get(f"/v1/payments/{uuid.uuid4()}", params={"wait": 11}, headers=headers)
    assert_problem(answer, 422)


async def test_one_idempotency_key_starts_one_payment(
    api: httpx.AsyncClient, gateway: FakeGateway, slot_ids: list[str]
) -> None:
    headers, hold_id = await hold_for(api, slot_ids[0])
    keyed = {**headers, "Idempotency-Key": "pay-once"}
    answers = await asyncio.gather(
        *(
            api.post(f"/v1/holds/{hold_id}/payments", json={"method": "card"}, headers=keyed)
            for _ in range(5)
        )
    )
    created = [a for a in answers if a.status_code == 201]
    assert {a.json()["id"] for a in created} == {created[0].json()["id"]}
    assert all(a.status_code in (201, 409) for a in answers)
    replay = await api.post(f"/v1/holds/{hold_id}/payments", json={"method": "card"}, headers=keyed)
    assert replay.json()["id"] == created[0].json()["id"]
    assert len(gateway.created) == 1


async def test_a_payment_on_a_released_hold_is_refused(
    api: httpx.AsyncClient, slot_ids: list[str]
) -> None:
    headers, hold_id = await hold_for(api, slot_ids[0])
    assert (await api.delete(f"/v1/holds/{hold_id}", headers=headers)).status_code == 200
    answer = await api.post(
        f"/v1/holds/{hold_id}/payments", json={"method": "card"}, headers=headers
    )
    assert_problem(answer, 409, "/hold-not-active")


async def test_the_ledger_summary_is_for_admins(api: httpx.AsyncClient) -> None:
    customer = bearer((await sign_up(api))["access_token"])
    assert_problem(await api.get("/v1/admin/ledger/summary", headers=customer), 403)
    assert_problem(await api.get("/v1/admin/ledger/summary"), 401)


async def admin_headers(ctx: Context) -> dict[str, str]:
    admin = await accounts.create_admin(
        ctx, email=f"admin-{uuid.uuid4().hex[:8]}@example.com", password="admin-password"
    )
    return bearer(accounts.issue_token(ctx, admin))


async def test_a_card_token_goes_only_to_a_gateway_that_charges_tokens(
    api: httpx.AsyncClient, gateway: FakeGateway, slot_ids: list[str]
) -> None:
    headers, hold_id = await hold_for(api, slot_ids[0])
    url = f"/v1/holds/{hold_id}/payments"
    refused = [
        {"method": "card", "card_token": "tokn_test_5g5mep9cj8q5z5k4vwz"},  # a hosted page
        {"method": "promptpay", "card_token": "tokn_test_5g5mep9cj8q5z5k4vwz"},
        {"method": "card", "card_token": ""},
        {"method": "card", "card_token": "tokn test<script>"},
        {"method": "card", "card_token": "t" * 129},
    ]
    for body in refused:
        answer = await api.post(url, json=body, headers=headers)
        assert_problem(answer, 422)
        assert answer.json()["errors"][0]["loc"] == ["body", "card_token"], body

    gateway.takes_card_token = True  # cards charged from Omise.js tokens from here on
    answer = await api.post(url, json={"method": "card"}, headers=headers)
    assert_problem(answer, 422)
    assert "card_token" in answer.json()["errors"][0]["msg"]
    hold = (await api.get(f"/v1/holds/{hold_id}", headers=headers)).json()
    assert (hold["status"], hold["payments"], gateway.created) == ("active", [], {})

    payment = await pay(api, headers, hold_id, card_token="tokn_test_5g5mep9cj8q5z5k4vwz")
    (created,) = gateway.created.values()
    assert (created.card_token, created.reference) == (
        "tokn_test_5g5mep9cj8q5z5k4vwz",
        uuid.UUID(payment["id"]),
    )
