"""Idempotency-Key in the service layer: replay, leases, recovery, expiry, one effect per key.

Each test drives `run_idempotent` over a real database with a manual clock; the handlers
are small recorders (or make a real hold) so each test sees exactly what ran.
"""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta
from uuid import UUID, uuid4

import pytest

from slotbook.adapters.clock import ManualClock
from slotbook.adapters.db.repos import idempotency as repo
from slotbook.domain.errors import IdempotencyKeyInFlight, IdempotencyKeyReused, InvalidRequest
from slotbook.service_layer import holds
from slotbook.service_layer.context import Context
from slotbook.service_layer.idempotency import Answer, Handle, Recover, run_idempotent
from slotbook.service_layer.sweeper import forget_expired_keys, sweep_once
from tests import builders
from tests.conftest import START
from tests.e2e.http_helpers import count_rows

ENDPOINT = "POST /v1/holds"
LEASE = 30.0
TTL = 86_400
CREATED = Answer(201, b'{"ok":true}')


class Recorder:
    """A request's effect and its recovery, written down instead of performed."""

    def __init__(self, answer: Answer = CREATED, *, effects: set[UUID] | None = None) -> None:
        self.answer = answer
        self.handled: list[UUID] = []
        self.recovered: list[UUID] = []
        self.effects = effects if effects is not None else set()

    async def handle(self, resource_id: UUID) -> Answer:
        self.handled.append(resource_id)
        self.effects.add(resource_id)
        return self.answer

    async def recover(self, resource_id: UUID) -> Answer | None:
        self.recovered.append(resource_id)
        return self.answer if resource_id in self.effects else None


async def run(
    ctx: Context, user_id: UUID, rec: Recorder, *, key: str = "k", body: bytes = b"a"
) -> Answer:
    return await attempt(ctx, user_id, handle=rec.handle, recover=rec.recover, key=key, body=body)


async def attempt(
    ctx: Context,
    user_id: UUID,
    *,
    handle: Handle,
    recover: Recover,
    key: str = "k",
    body: bytes = b"a",
) -> Answer:
    return await run_idempotent(
        ctx,
        user_id=user_id,
        endpoint=ENDPOINT,
        key=key,
        request_body=body,
        handle=handle,
        recover=recover,
    )


async def plant_unfinished_claim(ctx: Context, user_id: UUID, *, body: bytes = b"a") -> UUID:
    """What a process leaves behind when it dies between the claim and the stored answer."""
    resource_id, now = uuid4(), ctx.clock.now()
    claim = repo.NewClaim(
        request_hash=hashlib.sha256(body).hexdigest(),
        resource_id=resource_id,
        now=now,
        lease_until=now + timedelta(seconds=LEASE),
        expires_at=now + timedelta(seconds=TTL),
    )
    async with ctx.db.write() as conn:
        assert await repo.insert_claim(conn, repo.KeyRef(user_id, ENDPOINT, "k"), claim)
    return resource_id


async def stored(ctx: Context, user_id: UUID, key: str = "k") -> repo.StoredKey | None:
    async with ctx.db.read() as conn:
        return await repo.read(conn, repo.KeyRef(user_id, ENDPOINT, key))


async def test_a_retry_replays_the_stored_answer_without_running_again(ctx: Context) -> None:
    alice, rec = await builders.customer(ctx), Recorder()
    first = await run(ctx, alice.id, rec)
    again = await run(ctx, alice.id, rec)
    assert first == CREATED
    assert again == Answer(201, CREATED.body, replayed=True)
    assert len(rec.handled) == 1
    assert rec.recovered == []


async def test_the_same_key_with_another_body_is_refused(ctx: Context) -> None:
    alice, rec = await builders.customer(ctx), Recorder()
    await run(ctx, alice.id, rec, body=b"a")
    with pytest.raises(IdempotencyKeyReused):
        await run(ctx, alice.id, rec, body=b"b")
    assert len(rec.handled) == 1


@pytest.mark.parametrize("key", ["", "k" * 256])
async def test_a_key_must_be_1_to_255_characters(ctx: Context, key: str) -> None:
    alice = await builders.customer(ctx)
    with pytest.raises(InvalidRequest):
        await run(ctx, alice.id, Recorder(), key=key)


async def test_keys_are_scoped_to_their_user(ctx: Context) -> None:
    alice, bob, rec = await builders.customer(ctx), await builders.customer(ctx), Recorder()
    await run(ctx, alice.id, rec, body=b"a")
    assert await run(ctx, bob.id, rec, body=b"b") == CREATED
    assert len(rec.handled) == 2


async def test_an_unfinished_claim_is_in_flight_until_its_lease_ends(
    ctx: Context, clock: ManualClock
) -> None:
    alice, rec = await builders.customer(ctx), Recorder()
    resource_id = await plant_unfinished_claim(ctx, alice.id)
    with pytest.raises(IdempotencyKeyInFlight):
        await run(ctx, alice.id, rec)
    clock.advance(LEASE - 0.001)
    with pytest.raises(IdempotencyKeyInFlight):
        await run(ctx, alice.id, rec)
    assert rec.handled == rec.recovered == []
    clock.advance(0.001)
    assert await run(ctx, alice.id, rec) == CREATED
    # the retake looked for the first attempt's effect, found none, and ran with its id
    assert rec.recovered == rec.handled == [resource_id]


async def test_a_retake_replays_the_effect_of_an_attempt_that_died_after_it(
    ctx: Context, clock: ManualClock
) -> None:
    alice = await builders.customer(ctx)
    resource_id = await plant_unfinished_claim(ctx, alice.id)
    rec = Recorder(effects={resource_id})  # the dead attempt's effect committed
    clock.advance(LEASE)
    assert await run(ctx, alice.id, rec) == CREATED
    assert rec.recovered == [resource_id]
    assert rec.handled == []
    assert await run(ctx, alice.id, rec) == Answer(201, CREATED.body, replayed=True)


async def test_of_many_concurrent_retakers_one_runs(ctx: Context, clock: ManualClock) -> None:
    alice, rec = await builders.customer(ctx), Recorder()
    await plant_unfinished_claim(ctx, alice.id)
    clock.advance(LEASE)
    outcomes = await asyncio.gather(
        *(run(ctx, alice.id, rec) for _ in range(8)), return_exceptions=True
    )
    assert len(rec.recovered) == len(rec.handled) == 1
    for outcome in outcomes:
        assert outcome in (CREATED, Answer(201, CREATED.body, replayed=True)) or isinstance(
            outcome, IdempotencyKeyInFlight
        ), outcome


async def test_a_handler_exception_keeps_the_key_and_a_retry_runs_with_the_same_id(
    ctx: Context,
) -> None:
    alice, rec = await builders.customer(ctx), Recorder()

    async def broken(resource_id: UUID) -> Answer:
        rec.handled.append(resource_id)
        raise RuntimeError("the gateway timed out")

    with pytest.raises(RuntimeError):
        await attempt(ctx, alice.id, handle=broken, recover=rec.recover)
    kept = await stored(ctx, alice.id)
    assert kept is not None  # never freed: an outside effect may have happened
    assert kept.status_code is None
    assert kept.lease_until == ctx.clock.now()  # the lease ended at once
    assert await run(ctx, alice.id, rec) == CREATED  # no need to wait for the lease
    first_id = rec.handled[0]
    assert rec.recovered == [first_id]
    assert rec.handled == [first_id, first_id]


async def test_a_handler_that_fails_after_its_hold_committed_replays_the_hold(
    ctx: Context,
) -> None:
    _, (slot, *_) = await builders.provider_with_slots(ctx, first=START + timedelta(days=1))
    alice = await builders.customer(ctx)

    async def hold_then_fail(hold_id: UUID) -> Answer:
        await holds.place_hold(ctx, slot_id=slot.id, customer_id=alice.id, hold_id=hold_id)
        raise RuntimeError("died after the effect")

    async def find_hold(hold_id: UUID) -> Answer | None:
        found = await holds.get_hold(ctx, hold_id=hold_id, customer_id=alice.id)
        return Answer(201, str(found.id).encode())

    async def must_not_run(hold_id: UUID) -> Answer:
        raise AssertionError("the effect was made already")

    with pytest.raises(RuntimeError):
        await attempt(ctx, alice.id, handle=hold_then_fail, recover=find_hold)
    replay = await attempt(ctx, alice.id, handle=must_not_run, recover=find_hold)
    assert replay.status_code == 201
    assert await count_rows(ctx, "holds") == 1
    key = await stored(ctx, alice.id)
    assert key is not None
    assert replay.body == str(key.resource_id).encode()


async def test_an_attempt_whose_claim_was_retaken_cannot_overwrite_the_answer(
    ctx: Context, clock: ManualClock
) -> None:
    alice = await builders.customer(ctx)
    retaker = Recorder(Answer(201, b"retaker"))

    async def slow(resource_id: UUID) -> Answer:
        clock.advance(LEASE + 1)  # this attempt outlives its lease; a retry retakes the key
        assert await run(ctx, alice.id, retaker) == retaker.answer
        return Answer(201, b"slow")

    slow_answer = await attempt(ctx, alice.id, handle=slow, recover=retaker.recover)
    assert slow_answer == Answer(201, b"slow")  # it answers what it did
    replay = await run(ctx, alice.id, Recorder())
    assert replay == Answer(201, b"retaker", replayed=True)  # the retaker's answer stands


async def test_an_expired_key_is_a_new_request(ctx: Context, clock: ManualClock) -> None:
    alice, rec = await builders.customer(ctx), Recorder()
    await run(ctx, alice.id, rec, body=b"a")
    clock.advance(TTL - 1)
    with pytest.raises(IdempotencyKeyReused):
        await run(ctx, alice.id, rec, body=b"b")
    clock.advance(1)
    assert await run(ctx, alice.id, rec, body=b"b") == CREATED  # not a replay, not refused
    assert len(rec.handled) == 2
    assert rec.handled[0] != rec.handled[1]  # a new request, a new resource id


async def test_the_sweeper_forgets_expired_keys_in_batches(
    ctx: Context, clock: ManualClock
) -> None:
    alice, rec = await builders.customer(ctx), Recorder()
    for n in range(5):
        await run(ctx, alice.id, rec, key=f"old-{n}")
    clock.advance(TTL / 2)
    await run(ctx, alice.id, rec, key="recent")
    clock.advance(TTL / 2)
    assert await forget_expired_keys(ctx, batch=2) == 5
    assert await count_rows(ctx, "idempotency_keys") == 1
    assert await stored(ctx, alice.id, "recent") is not None
    clock.advance(TTL / 2)
    await sweep_once(ctx)
    assert await count_rows(ctx, "idempotency_keys") == 0


async def test_a_sweep_forgets_at_most_its_batches(ctx: Context, clock: ManualClock) -> None:
    alice, rec = await builders.customer(ctx), Recorder()
    for n in range(5):
        await run(ctx, alice.id, rec, key=f"old-{n}")
    clock.advance(TTL)
    assert await forget_expired_keys(ctx, batch=2, batches=2) == 4
    assert await forget_expired_keys(ctx, batch=2, batches=2) == 1
    assert await forget_expired_keys(ctx, batch=2, batches=2) == 0
