"""Webhooks from the sandbox, to a receiver on loopback: signed so that the
`standardwebhooks` package verifies them, shaped by `complete` (delay, duplicates, drop),
retried after an error until accepted or given up, and durable across a restart."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from standardwebhooks import Webhook

from slotbook.adapters.clock import ManualClock, SystemClock
from slotbook.domain.gateway import EventKind, RefundRequest
from slotbook.sandbox import delivery_store as store
from tests.conftest import START
from tests.sandbox_helpers import (
    WEBHOOK_SECRET,
    Receiver,
    RunningSandbox,
    receiving,
    running_sandbox,
    wait_until,
)


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    async with receiving() as found:
        yield found


async def started(gw: RunningSandbox, notify_url: str) -> str:
    created = await gw.gateway.create_payment(gw.new_payment(notify_url))
    return created.gateway_payment_id


async def delivered(gw: RunningSandbox, payment_id: str, count: int = 1) -> list[dict[str, object]]:
    """Wait until `count` deliveries of the payment's events read delivered."""

    async def done() -> list[dict[str, object]] | None:
        found = [d for d in await gw.deliveries(payment_id) if d["status"] == "delivered"]
        return found if len(found) >= count else None

    return await wait_until(done)


async def test_a_delivered_webhook_verifies_with_the_standard_webhooks_package(
    tmp_path: Path, receiver: tuple[Receiver, str]
) -> None:
    inbox, url = receiver
    async with running_sandbox(tmp_path / "sandbox.db", SystemClock()) as gw:
        request = gw.new_payment(url)
        payment_id = (await gw.gateway.create_payment(request)).gateway_payment_id
        await gw.complete(payment_id)
        (webhook,) = await inbox.wait_for(1)
        body = Webhook(WEBHOOK_SECRET).verify(webhook.body, webhook.headers)  # the system clock
        event = gw.gateway.parse_webhook(webhook.headers, webhook.body, now=datetime.now(UTC))
    assert webhook.headers["content-type"] == "application/json"
    assert webhook.headers["webhook-id"] == body["id"] == event.event_id
    assert body["id"].startswith("evt_")
    assert body["type"] == "payment.succeeded"
    assert body["data"]["payment"] == {
        "id": payment_id,
        "reference": str(request.reference),
        "status": "succeeded",
        "amount_minor": 150_050,
        "currency": "THB",
        "method": "card",
    }
    assert event.kind is EventKind.PAYMENT_SUCCEEDED
    assert (event.reference, event.amount_minor, event.currency) == (
        request.reference,
        150_050,
        "THB",
    )


async def test_a_decline_and_a_refund_each_send_their_event(
    tmp_path: Path, clock: ManualClock, receiver: tuple[Receiver, str]
) -> None:
    inbox, url = receiver
    async with running_sandbox(tmp_path / "sandbox.db", clock) as gw:
        declined, paid = await started(gw, url), await started(gw, url)
        await gw.complete(declined, "declined")
        await gw.complete(paid)
        refund = await gw.gateway.refund(RefundRequest(paid, 50_000, "THB", idempotency_key="r-1"))
        await gw.gateway.refund(RefundRequest(paid, 50_000, "THB", idempotency_key="r-1"))
        webhooks = await inbox.wait_for(3)
        events = [gw.gateway.parse_webhook(w.headers, w.body, now=clock.now()) for w in webhooks]
    by_kind = {e.kind: e for e in events}
    assert len(events) == 3  # the refund's replay sent nothing more
    assert by_kind[EventKind.PAYMENT_FAILED].gateway_payment_id == declined
    assert by_kind[EventKind.PAYMENT_SUCCEEDED].gateway_payment_id == paid
    refunded = by_kind[EventKind.REFUND_SUCCEEDED]
    assert (refunded.gateway_refund_id, refunded.amount_minor) == (refund.gateway_refund_id, 50_000)
    assert refunded.gateway_payment_id == paid


async def test_a_delay_holds_the_first_attempt_back(
    tmp_path: Path, clock: ManualClock, receiver: tuple[Receiver, str]
) -> None:
    inbox, url = receiver
    async with running_sandbox(tmp_path / "sandbox.db", clock) as gw:
        payment_id = await started(gw, url)
        await gw.complete(payment_id, webhook={"delay_ms": 30_000})
        clock.advance(29.9)
        assert await gw.sandbox.deliverer.deliver_due() == 0
        (waiting,) = await gw.deliveries(payment_id)
        assert (waiting["status"], waiting["attempts"]) == ("pending", 0)
        assert waiting["due_at"] == "2030-01-01T08:00:30.000Z"
        clock.advance(0.1)
        gw.sandbox.deliverer.wake()
        await inbox.wait_for(1)
        await delivered(gw, payment_id)
    assert inbox.received[0].headers["webhook-timestamp"] == str(int(START.timestamp()) + 30)


async def test_duplicates_are_the_same_event(
    tmp_path: Path, clock: ManualClock, receiver: tuple[Receiver, str]
) -> None:
    inbox, url = receiver
    async with running_sandbox(tmp_path / "sandbox.db", clock) as gw:
        payment_id = await started(gw, url)
        await gw.complete(payment_id, webhook={"duplicates": 2})
        webhooks = await inbox.wait_for(3)
        await delivered(gw, payment_id, 3)
        for webhook in webhooks:
            gw.gateway.parse_webhook(webhook.headers, webhook.body, now=clock.now())
    assert len({w.headers["webhook-id"] for w in webhooks}) == 1
    assert len({w.body for w in webhooks}) == 1
    assert json.loads(webhooks[0].body)["type"] == "payment.succeeded"


async def test_a_dropped_event_is_never_delivered(
    tmp_path: Path, clock: ManualClock, receiver: tuple[Receiver, str]
) -> None:
    inbox, url = receiver
    async with running_sandbox(tmp_path / "sandbox.db", clock) as gw:
        lost, kept = await started(gw, url), await started(gw, url)
        await gw.complete(lost, webhook={"drop": True, "duplicates": 1})
        await gw.complete(kept)
        await delivered(gw, kept)
        clock.advance(86_400)
        assert await gw.sandbox.deliverer.deliver_due() == 0
        assert [(d["status"], d["attempts"]) for d in await gw.deliveries(lost)] == [
            ("dropped", 0),
            ("dropped", 0),
        ]
    assert [json.loads(w.body)["data"]["payment"]["id"] for w in inbox.received] == [kept]


async def test_an_error_answer_is_retried_with_the_same_id_signed_anew(
    tmp_path: Path, clock: ManualClock, receiver: tuple[Receiver, str]
) -> None:
    inbox, url = receiver
    inbox.answers.extend([500, 503])
    async with running_sandbox(tmp_path / "sandbox.db", clock, webhook_retry_seconds=2) as gw:
        payment_id = await started(gw, url)
        await gw.complete(payment_id)
        await inbox.wait_for(1)
        (failed,) = await wait_until(lambda: attempted(gw, payment_id, 1))
        assert (failed["status"], failed["last_status_code"]) == ("pending", 500)
        assert failed["due_at"] == "2030-01-01T08:00:02.000Z"  # the first backoff
        clock.advance(2)
        gw.sandbox.deliverer.wake()
        await inbox.wait_for(2)
        (again,) = await wait_until(lambda: attempted(gw, payment_id, 2))
        assert again["due_at"] == "2030-01-01T08:00:06.000Z"  # doubled
        clock.advance(4)
        gw.sandbox.deliverer.wake()
        webhooks = await inbox.wait_for(3)
        (accepted,) = await delivered(gw, payment_id)
    assert (accepted["attempts"], accepted["last_status_code"]) == (3, 200)
    assert len({w.headers["webhook-id"] for w in webhooks}) == 1
    stamps = [int(w.headers["webhook-timestamp"]) - int(START.timestamp()) for w in webhooks]
    assert stamps == [0, 2, 6]
    assert len({w.headers["webhook-signature"] for w in webhooks}) == 3


async def attempted(
    gw: RunningSandbox, payment_id: str, attempts: int
) -> list[dict[str, object]] | None:
    """The deliveries once each was attempted `attempts` times and no attempt is under way."""
    found = await gw.deliveries(payment_id)
    done = all(d["attempts"] == attempts and d["claimed_until"] is None for d in found)
    return found if done else None


async def test_a_delivery_never_accepted_is_given_up(
    tmp_path: Path, clock: ManualClock, receiver: tuple[Receiver, str]
) -> None:
    inbox, url = receiver
    inbox.answers.extend([500] * 10)
    config = {"webhook_retry_seconds": 1, "webhook_give_up_seconds": 2.5}
    async with running_sandbox(tmp_path / "sandbox.db", clock, **config) as gw:
        payment_id = await started(gw, url)
        await gw.complete(payment_id)
        for attempts, wait in ((1, 1), (2, 2)):  # at +0 s, +1 s; the next would be +3 s > 2.5
            await wait_until(lambda n=attempts: attempted(gw, payment_id, n))
            clock.advance(wait)
            gw.sandbox.deliverer.wake()
        (given_up,) = await wait_until(lambda: abandoned(gw, payment_id))
    assert (given_up["attempts"], given_up["last_status_code"]) == (2, 500)
    assert len(inbox.received) == 2


async def abandoned(gw: RunningSandbox, payment_id: str) -> list[dict[str, object]] | None:
    found = await gw.deliveries(payment_id)
    return found if all(d["status"] == "abandoned" for d in found) else None


async def test_a_restarted_gateway_carries_on_with_pending_deliveries(
    tmp_path: Path, clock: ManualClock, receiver: tuple[Receiver, str]
) -> None:
    inbox, url = receiver
    async with running_sandbox(tmp_path / "sandbox.db", clock) as first:
        payment_id = await started(first, url)
        await first.complete(payment_id, webhook={"delay_ms": 5_000})
    assert inbox.received == []
    clock.advance(5)
    async with running_sandbox(tmp_path / "sandbox.db", clock) as second:
        (webhook,) = await inbox.wait_for(1)
        await delivered(second, payment_id)
        event = second.gateway.parse_webhook(webhook.headers, webhook.body, now=clock.now())
    assert event.gateway_payment_id == payment_id


async def test_two_gateway_processes_on_one_file_send_each_delivery_once(
    tmp_path: Path, clock: ManualClock, receiver: tuple[Receiver, str]
) -> None:
    inbox, url = receiver
    db_file = tmp_path / "sandbox.db"
    async with running_sandbox(db_file, clock) as one, running_sandbox(db_file, clock) as two:
        payments = [await started(one, url) for _ in range(6)]
        for n, payment_id in enumerate(payments):
            await (one if n % 2 else two).complete(payment_id, webhook={"delay_ms": 1_000})
        clock.advance(1)
        one.sandbox.deliverer.wake()
        two.sandbox.deliverer.wake()
        await inbox.wait_for(6)
        for payment_id in payments:
            (copy,) = await delivered(two, payment_id)
            assert copy["attempts"] == 1
    assert len({w.headers["webhook-id"] for w in inbox.received}) == 6
    assert len(inbox.received) == 6


async def test_a_claimed_delivery_waits_for_its_lease_to_end(
    tmp_path: Path, clock: ManualClock, receiver: tuple[Receiver, str]
) -> None:
    """A worker that died mid-send holds its claim until the lease ends; then any worker
    takes the delivery over (so nothing is lost, and nothing spins meanwhile)."""
    inbox, url = receiver
    db_file = tmp_path / "sandbox.db"
    async with running_sandbox(db_file, clock) as gw:
        payment_id = await started(gw, url)
        await gw.complete(payment_id, webhook={"delay_ms": 1_000})
        due = clock.now() + timedelta(seconds=1)  # due here, before the gateway's worker sees it
        lease_end = due + timedelta(seconds=30)
        async with gw.sandbox.db.write() as conn:  # as a worker that then dies would
            (claimed,) = await store.claim_due(conn, now=due, lease_until=lease_end, limit=5)
        assert claimed.attempts == 1
        clock.advance(1)
        assert await gw.sandbox.deliverer.deliver_due() == 0
        async with gw.sandbox.db.read() as conn:
            assert await store.next_claimable_at(conn) == lease_end
        clock.advance(30)
        gw.sandbox.deliverer.wake()
        (webhook,) = await inbox.wait_for(1)
        (taken_over,) = await delivered(gw, payment_id)
    assert taken_over["attempts"] == 2
    assert webhook.headers["webhook-id"] == claimed.event_id


async def test_a_new_events_copies_are_claimed_as_it_is_written_and_sent_at_once(
    tmp_path: Path, clock: ManualClock, receiver: tuple[Receiver, str]
) -> None:
    """No wait for the worker's next pass: the settling transaction claims the copies due
    now (so the answer to `complete` already finds each attempted), a delayed copy is
    left to the worker, and every result is written back."""
    inbox, url = receiver
    async with running_sandbox(tmp_path / "sandbox.db", clock) as gw:
        now_paid, later = await started(gw, url), await started(gw, url)
        await gw.complete(now_paid, webhook={"duplicates": 1})
        await gw.complete(later, webhook={"delay_ms": 1_000})
        claimed = await gw.deliveries(now_paid)
        (waiting,) = await gw.deliveries(later)
        webhooks = await inbox.wait_for(2)
        sent = await delivered(gw, now_paid, 2)
    assert [copy["attempts"] for copy in claimed] == [1, 1]
    assert (waiting["status"], waiting["attempts"]) == ("pending", 0)
    assert [(copy["attempts"], copy["last_status_code"]) for copy in sent] == [(1, 200)] * 2
    assert {json.loads(w.body)["data"]["payment"]["id"] for w in webhooks} == {now_paid}
