"""The sandbox's merchant API through slotbook's adapter, over real HTTP: idempotent by
key, cancel and complete in either order, refunds, and the merchant API switched down."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from slotbook.adapters.clock import ManualClock
from slotbook.domain.errors import GatewayRefused, GatewayUnavailable
from slotbook.domain.gateway import (
    GatewayPaymentStatus,
    PaymentMethod,
    RefundRequest,
    RefundStatus,
    idempotency_key,
)
from slotbook.sandbox.app import standalone_app
from slotbook.sandbox.runtime import Sandbox
from tests.sandbox_helpers import (
    LocalServer,
    RunningSandbox,
    assert_sandbox_problem,
    running_sandbox,
    sandbox_config,
)

NOTIFY_URL = "http://127.0.0.1:9/nobody-listens"  # these tests read deliveries, not webhooks


@pytest.fixture
async def gw(tmp_path: Path, clock: ManualClock) -> AsyncIterator[RunningSandbox]:
    async with running_sandbox(tmp_path / "sandbox.db", clock) as running:
        yield running


async def test_create_then_get(gw: RunningSandbox) -> None:
    request = gw.new_payment(NOTIFY_URL, method=PaymentMethod.PROMPTPAY)
    created = await gw.gateway.create_payment(request)
    assert created.gateway_payment_id.startswith("sbx_pay_")
    assert created.redirect_url == f"{gw.url}/pay/{created.gateway_payment_id}"
    state = await gw.gateway.get_payment(created.gateway_payment_id)
    assert state.status is GatewayPaymentStatus.PENDING
    assert (state.amount_minor, state.currency, state.reference) == (
        150_050,
        "THB",
        request.reference,
    )
    view = (await gw.http.get(f"/payments/{created.gateway_payment_id}")).json()
    assert view["method"] == "promptpay"
    assert view["created_at"].endswith("Z")
    assert (view["settled_at"], view["cancelled_at"], view["refunds"]) == (None, None, [])


async def test_the_same_key_returns_the_same_payment(gw: RunningSandbox) -> None:
    request = gw.new_payment(NOTIFY_URL)
    first = await gw.gateway.create_payment(request)
    assert await gw.gateway.create_payment(request) == first
    raw = request_body(gw, request.idempotency_key) | {"reference": str(request.reference)}
    headers = {"Idempotency-Key": request.idempotency_key}
    replayed = await gw.http.post("/payments", json=raw, headers=headers)
    assert (replayed.status_code, replayed.headers["idempotent-replayed"]) == (200, "true")
    assert replayed.json() == (await gw.http.get(f"/payments/{first.gateway_payment_id}")).json()
    body = request_body(gw, request.idempotency_key)
    replay = await gw.http.post("/payments", json=body, headers={"Idempotency-Key": "other"})
    assert replay.status_code == 201  # a new key: a new payment
    assert replay.json()["id"] != first.gateway_payment_id


async def test_the_same_key_for_another_request_is_refused(gw: RunningSandbox) -> None:
    request = gw.new_payment(NOTIFY_URL)
    await gw.gateway.create_payment(request)
    with pytest.raises(GatewayRefused, match="422 idempotency_key_reused: Idempotency-Key"):
        await gw.gateway.create_payment(
            gw.new_payment(NOTIFY_URL, idempotency_key=request.idempotency_key)
        )
    body = request_body(gw, request.idempotency_key)
    answer = await gw.http.post(
        "/payments", json=body, headers={"Idempotency-Key": request.idempotency_key}
    )
    problem = assert_sandbox_problem(answer, 422, "idempotency_key_reused")
    assert [e["loc"] for e in problem["errors"]] == [["header", "idempotency-key"]]


def request_body(gw: RunningSandbox, key: str) -> dict[str, object]:
    request = gw.new_payment(NOTIFY_URL, idempotency_key=key)
    return {
        "reference": str(request.reference),
        "amount_minor": request.amount_minor,
        "currency": request.currency,
        "method": request.method.value,
        "description": request.description,
        "return_url": request.return_url,
        "notify_url": request.notify_url,
        "expires_at": request.expires_at.isoformat(),
    }


async def test_a_creation_without_a_key_is_refused(gw: RunningSandbox) -> None:
    answer = await gw.http.post("/payments", json=request_body(gw, "k"))
    assert_sandbox_problem(answer, 400, "idempotency_key_required")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"method": "cash"}, "method"),
        ({"amount_minor": 0}, "amount_minor"),
        ({"amount_minor": "100"}, "amount_minor"),
        ({"amount_minor": 10**12 + 1}, "amount_minor"),
        ({"method": "promptpay", "currency": "USD"}, None),
        ({"expires_at": "2030-01-01T08:10:00"}, "expires_at"),  # naive
        ({"expires_at": "9999-12-31T23:59:59-14:00"}, "expires_at"),  # past 2200, in UTC
        ({"expires_at": "0001-01-01T00:00:00+01:00"}, "expires_at"),  # before year 1 in UTC
        ({"expires_at": 1893484800}, "expires_at"),  # a number is not a time
        ({"expires_at": "1893484800"}, "expires_at"),
        ({"notify_url": "ftp://x.test/"}, "notify_url"),
        ({"reference": "a\x00b"}, "reference"),
        ({"description": "a\x00b"}, "description"),
        ({"description": "\ud800"}, "description"),  # a lone surrogate
        ({"currency": "a\x00b"}, "currency"),
    ],
)
async def test_bad_creations_are_refused_and_name_the_field(
    gw: RunningSandbox, change: dict[str, object], field: str | None
) -> None:
    body = json.dumps({**request_body(gw, "k"), **change})  # ASCII: a lone surrogate too
    headers = {"Idempotency-Key": "k", "Content-Type": "application/json"}
    answer = await gw.http.post("/payments", content=body, headers=headers)
    problem = assert_sandbox_problem(answer, 422, "invalid_request")
    locs = [e["loc"] for e in problem["errors"]]
    assert ["body", field] in locs if field else locs == [["body"]], locs


async def test_the_body_is_checked_before_the_key_is_asked_for(gw: RunningSandbox) -> None:
    answer = await gw.http.post("/payments", json={"reference": "a\x00b"})
    problem = assert_sandbox_problem(answer, 422, "invalid_request")
    assert ["body", "reference"] in [e["loc"] for e in problem["errors"]]


async def test_cancel_is_idempotent(gw: RunningSandbox) -> None:
    created = await gw.gateway.create_payment(gw.new_payment(NOTIFY_URL))
    key = idempotency_key("cancel-payment", gw.new_payment(NOTIFY_URL).reference)
    first = await gw.gateway.cancel_payment(created.gateway_payment_id, idempotency_key=key)
    again = await gw.gateway.cancel_payment(created.gateway_payment_id, idempotency_key=key)
    assert first == again
    assert first.status is GatewayPaymentStatus.CANCELLED


async def test_complete_twice_answers_409(gw: RunningSandbox) -> None:
    created = await gw.gateway.create_payment(gw.new_payment(NOTIFY_URL))
    await gw.complete(created.gateway_payment_id, "declined")
    again = await gw.http.post(
        f"/payments/{created.gateway_payment_id}/complete", json={"outcome": "succeeded"}
    )
    assert_sandbox_problem(again, 409, "payment_already_settled")
    state = await gw.gateway.get_payment(created.gateway_payment_id)
    assert state.status is GatewayPaymentStatus.FAILED


async def test_complete_settles_a_cancelled_payment_and_cancel_then_tells(
    gw: RunningSandbox,
) -> None:
    """The customer's money moved just before the cancellation reached the gateway."""
    created = await gw.gateway.create_payment(gw.new_payment(NOTIFY_URL))
    pid = created.gateway_payment_id
    cancelled = await gw.gateway.cancel_payment(pid, idempotency_key="cancel-1")
    assert cancelled.status is GatewayPaymentStatus.CANCELLED
    settled = await gw.complete(pid, "succeeded")
    assert settled["status"] == "succeeded"
    assert settled["cancelled_at"] is not None
    assert (await gw.gateway.cancel_payment(pid, idempotency_key="cancel-1")).status is (
        GatewayPaymentStatus.SUCCEEDED
    )
    assert (await gw.gateway.get_payment(pid)).status is GatewayPaymentStatus.SUCCEEDED


async def test_two_completes_at_once_settle_once(gw: RunningSandbox) -> None:
    created = await gw.gateway.create_payment(gw.new_payment(NOTIFY_URL))
    path = f"/payments/{created.gateway_payment_id}/complete"
    answers = await asyncio.gather(
        *(gw.http.post(path, json={"outcome": o}) for o in ("succeeded", "declined") * 3)
    )
    assert sorted(a.status_code for a in answers) == [200, 409, 409, 409, 409, 409]
    assert len(await gw.deliveries(created.gateway_payment_id)) == 1


async def paid(gw: RunningSandbox) -> str:
    created = await gw.gateway.create_payment(gw.new_payment(NOTIFY_URL))
    await gw.complete(created.gateway_payment_id)
    return created.gateway_payment_id


async def test_refund_is_idempotent_by_key(gw: RunningSandbox) -> None:
    pid = await paid(gw)
    request = RefundRequest(pid, 150_050, "THB", idempotency_key="refund-1")
    first = await gw.gateway.refund(request)
    assert first.gateway_refund_id.startswith("sbx_re_")
    assert first.status is RefundStatus.SUCCEEDED
    assert await gw.gateway.refund(request) == first
    view = (await gw.http.get(f"/payments/{pid}")).json()
    assert view["refunded_minor"] == 150_050
    assert [r["id"] for r in view["refunds"]] == [first.gateway_refund_id]


async def test_refunds_never_exceed_the_payment(gw: RunningSandbox) -> None:
    pid = await paid(gw)
    await gw.gateway.refund(RefundRequest(pid, 100_000, "THB", idempotency_key="part-1"))
    with pytest.raises(GatewayRefused, match=r"422 refund_invalid: .* 50050 THB left"):
        await gw.gateway.refund(RefundRequest(pid, 50_051, "THB", idempotency_key="part-2"))
    second = await gw.gateway.refund(RefundRequest(pid, 50_050, "THB", idempotency_key="part-3"))
    assert second.status is RefundStatus.SUCCEEDED
    with pytest.raises(GatewayRefused):
        await gw.gateway.refund(RefundRequest(pid, 1, "THB", idempotency_key="part-4"))
    with pytest.raises(GatewayRefused, match="422"):  # the same key for another request
        await gw.gateway.refund(RefundRequest(pid, 5, "THB", idempotency_key="part-1"))


async def test_refunds_of_unpaid_payments_or_in_another_currency_are_refused(
    gw: RunningSandbox,
) -> None:
    created = await gw.gateway.create_payment(gw.new_payment(NOTIFY_URL))
    with pytest.raises(GatewayRefused, match="409 payment_not_refundable"):
        await gw.gateway.refund(
            RefundRequest(created.gateway_payment_id, 100, "THB", idempotency_key="r-1")
        )
    with pytest.raises(GatewayRefused, match="422 refund_invalid"):
        await gw.gateway.refund(RefundRequest(await paid(gw), 100, "USD", idempotency_key="r-2"))
    other = {"amount_minor": 100, "currency": "USD"}
    answer = await gw.http.post(
        f"/payments/{await paid(gw)}/refunds", json=other, headers={"Idempotency-Key": "r-3"}
    )
    problem = assert_sandbox_problem(answer, 422, "refund_invalid")
    assert [e["loc"] for e in problem["errors"]] == [["body", "currency"]]


async def test_unknown_payments_are_refused(gw: RunningSandbox) -> None:
    with pytest.raises(GatewayRefused, match="404 payment_not_found: no payment sbx_pay_nope"):
        await gw.gateway.get_payment("sbx_pay_nope")
    with pytest.raises(GatewayRefused, match="404"):
        await gw.gateway.cancel_payment("../../control/merchant-api", idempotency_key="c")
    answer = await gw.http.post("/payments/nope/complete", json={"outcome": "succeeded"})
    assert_sandbox_problem(answer, 404, "payment_not_found")
    newline = await gw.http.get("/payments/a%0Ab")  # still the sandbox's path
    assert_sandbox_problem(newline, 404, "payment_not_found")


async def switch(gw: RunningSandbox, mode: str) -> None:
    answer = await gw.http.put("/control/merchant-api", json={"mode": mode})
    assert answer.json() == {"mode": mode}


async def test_merchant_api_down_does_nothing_until_it_is_back(gw: RunningSandbox) -> None:
    paid_id = await paid(gw)
    request = gw.new_payment(NOTIFY_URL)
    await switch(gw, "down")
    with pytest.raises(GatewayUnavailable, match="503 merchant_api_unavailable"):
        await gw.gateway.create_payment(request)
    down = await gw.http.get(f"/payments/{paid_id}")
    assert_sandbox_problem(down, 503, "merchant_api_unavailable")
    with pytest.raises(GatewayUnavailable):
        await gw.gateway.refund(RefundRequest(paid_id, 100, "THB", idempotency_key="down-1"))
    with pytest.raises(GatewayUnavailable):
        await gw.gateway.get_payment(paid_id)
    assert (await gw.http.get("/healthz")).status_code == 200  # the control side stays up
    await switch(gw, "up")
    replayed = await gw.http.post(
        "/payments",
        json=request_body(gw, request.idempotency_key) | {"reference": str(request.reference)},
        headers={"Idempotency-Key": request.idempotency_key},
    )
    assert replayed.status_code == 201  # nothing had been created while it was down
    assert (await gw.http.get(f"/payments/{paid_id}")).json()["refunded_minor"] == 0


async def test_lost_answers_then_a_retry_with_the_same_key_finds_the_effect(
    gw: RunningSandbox,
) -> None:
    request = gw.new_payment(NOTIFY_URL)
    await switch(gw, "lose_answers")
    with pytest.raises(GatewayUnavailable):
        await gw.gateway.create_payment(request)
    await switch(gw, "up")
    created = await gw.gateway.create_payment(request)
    views = await gw.http.get(f"/payments/{created.gateway_payment_id}")
    assert views.json()["reference"] == str(request.reference)
    await gw.complete(created.gateway_payment_id)
    refund = RefundRequest(created.gateway_payment_id, 150_050, "THB", idempotency_key="lost-1")
    await switch(gw, "lose_answers")
    with pytest.raises(GatewayUnavailable):
        await gw.gateway.refund(refund)
    await switch(gw, "up")
    assert (await gw.gateway.refund(refund)).status is RefundStatus.SUCCEEDED
    view = (await gw.http.get(f"/payments/{created.gateway_payment_id}")).json()
    assert len(view["refunds"]) == 1


async def test_a_file_it_cannot_open_answers_503_until_it_can(
    tmp_path: Path, clock: ManualClock
) -> None:
    """The gateway (and slotbook serving it) starts all the same, and recovers by itself."""
    missing = tmp_path / "not-yet"
    sandbox = Sandbox(sandbox_config(missing / "sandbox.db"), clock=clock)
    async with (
        LocalServer(standalone_app(sandbox)) as server,
        httpx.AsyncClient(base_url=f"{server.url}/sandbox") as http,
    ):
        down = await http.get("/healthz")
        assert_sandbox_problem(down, 503, "sandbox_storage_unavailable")
        missing.mkdir()
        assert (await http.get("/healthz")).status_code == 200
        assert (await http.get("/payments/sbx_pay_nope")).status_code == 404
