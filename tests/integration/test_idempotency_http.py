"""Idempotency-Key on POST /v1/holds, over HTTP: one hold per key, whatever fails when.

Faults are planted in the database (a trigger that refuses to store the answer) or left
behind as a dead process would leave them (a claim and its hold, no stored answer).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import timedelta
from uuid import UUID, uuid4

import httpx
import pytest

from slotbook.adapters.clock import ManualClock
from slotbook.adapters.db.repos import idempotency as repo
from slotbook.domain.model import Principal, Role
from slotbook.domain.slots import Slot
from slotbook.service_layer import holds
from slotbook.service_layer.context import Context
from tests import builders
from tests.conftest import START
from tests.e2e.http_helpers import assert_problem, bearer, count_rows

STORE_FAULT = {
    "sqlite": [
        "CREATE TRIGGER injected_fault BEFORE UPDATE ON idempotency_keys "
        "WHEN NEW.status_code IS NOT NULL "
        "BEGIN SELECT RAISE(FAIL, 'injected fault'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION injected_fault() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN IF NEW.status_code IS NOT NULL THEN RAISE EXCEPTION 'injected fault'; "
        "END IF; RETURN NEW; END $$",
        "CREATE TRIGGER injected_fault BEFORE UPDATE ON idempotency_keys "
        "FOR EACH ROW EXECUTE FUNCTION injected_fault()",
    ],
}
CLEANUP = {
    "sqlite": ["DROP TRIGGER injected_fault"],
    "postgresql": [
        "DROP TRIGGER injected_fault ON idempotency_keys",
        "DROP FUNCTION injected_fault()",
    ],
}


@pytest.fixture
async def slots(ctx: Context) -> list[Slot]:
    _, made = await builders.provider_with_slots(ctx, first=START + timedelta(days=1))
    return made


async def run_sql(ctx: Context, statements: list[str]) -> None:
    async with ctx.db.write() as conn:
        for statement in statements:
            await conn.exec_driver_sql(statement)


async def customer(ctx: Context) -> tuple[UUID, dict[str, str]]:
    user = await builders.customer(ctx)
    token = ctx.tokens.issue(Principal(user.id, Role.CUSTOMER), now=ctx.clock.now())
    return user.id, bearer(token)


def hold_body(slot: Slot) -> bytes:
    return json.dumps({"slot_id": str(slot.id)}).encode()


async def post_hold(
    client: httpx.AsyncClient, headers: dict[str, str], body: bytes, *, key: str = "k", rid: str
) -> httpx.Response:
    return await client.post(
        "/v1/holds",
        content=body,
        headers={
            **headers,
            "Content-Type": "application/json",
            "Idempotency-Key": key,
            "X-Request-ID": rid,
        },
    )


async def test_a_replayed_problem_carries_the_new_request_id(
    ctx: Context, client: httpx.AsyncClient, slots: list[Slot]
) -> None:
    bob = (await builders.customer(ctx)).id
    await holds.place_hold(ctx, slot_id=slots[0].id, customer_id=bob)
    _, alice = await customer(ctx)
    first = await post_hold(client, alice, hold_body(slots[0]), rid="first-request")
    replay = await post_hold(client, alice, hold_body(slots[0]), rid="second-request")
    assert assert_problem(first, 409, "/slot-unavailable")["request_id"] == "first-request"
    replayed = assert_problem(replay, 409, "/slot-unavailable")
    assert replayed["request_id"] == "second-request"
    assert {**replayed, "request_id": "first-request"} == first.json()


async def test_an_in_flight_answer_carries_its_own_request_id(
    ctx: Context, client: httpx.AsyncClient, slots: list[Slot]
) -> None:
    alice_id, alice = await customer(ctx)
    await plant_unfinished_claim(ctx, alice_id, hold_body(slots[0]))
    answer = await post_hold(client, alice, hold_body(slots[0]), rid="retry-1")
    body = assert_problem(answer, 409, "/idempotency-key-in-flight")
    assert body["request_id"] == "retry-1"


async def test_concurrent_requests_with_one_key_make_one_hold(
    ctx: Context, client: httpx.AsyncClient, slots: list[Slot]
) -> None:
    _, alice = await customer(ctx)
    answers = await asyncio.gather(
        *(post_hold(client, alice, hold_body(slots[0]), rid=f"r{n}") for n in range(8))
    )
    created = [a for a in answers if a.status_code == 201]
    assert created, [a.text for a in answers]
    assert len({a.json()["id"] for a in created}) == 1
    for answer in answers:
        if answer.status_code != 201:
            assert_problem(answer, 409, "/idempotency-key-in-flight")
    assert await count_rows(ctx, "holds") == 1


async def test_a_failed_store_after_the_hold_still_answers_and_a_retry_replays_it(
    ctx: Context, client: httpx.AsyncClient, slots: list[Slot]
) -> None:
    alice_id, alice = await customer(ctx)
    dialect = "sqlite" if ctx.db.is_sqlite else "postgresql"
    await run_sql(ctx, STORE_FAULT[dialect])
    try:
        first = await post_hold(client, alice, hold_body(slots[0]), rid="r1")
    finally:
        await run_sql(ctx, CLEANUP[dialect])
    assert first.status_code == 201, first.text  # the hold committed: the client is told
    key = await stored_key(ctx, alice_id)
    assert key.status_code is None  # no answer stored,
    assert key.lease_until == ctx.clock.now()  # and the lease ended for a retry at once
    retry = await post_hold(client, alice, hold_body(slots[0]), rid="r2")
    assert retry.status_code == 201
    assert retry.content == first.content  # recovered from the hold, as first answered
    assert await count_rows(ctx, "holds") == 1
    replay = await post_hold(client, alice, hold_body(slots[0]), rid="r3")
    assert replay.content == first.content  # and stored this time


async def test_a_hold_left_by_a_dead_process_is_replayed_after_the_lease(
    ctx: Context, client: httpx.AsyncClient, slots: list[Slot], clock: ManualClock
) -> None:
    alice_id, alice = await customer(ctx)
    hold_id = await plant_unfinished_claim(ctx, alice_id, hold_body(slots[0]))
    placed = await holds.place_hold(ctx, slot_id=slots[0].id, customer_id=alice_id, hold_id=hold_id)
    # the process died here: the hold committed, its answer was never stored
    await holds.place_hold(ctx, slot_id=slots[1].id, customer_id=alice_id)  # supersedes it
    early = await post_hold(client, alice, hold_body(slots[0]), rid="r1")
    assert_problem(early, 409, "/idempotency-key-in-flight")
    clock.advance(ctx.settings.idempotency_lease_seconds)
    late = await post_hold(client, alice, hold_body(slots[0]), rid="r2")
    assert late.status_code == 201, late.text
    hold = late.json()
    assert hold["id"] == str(placed.hold.id)
    assert hold["status"] == "active"  # the first answer, not the hold as it is now
    assert hold["release_reason"] is None
    assert await count_rows(ctx, "holds") == 2


async def plant_unfinished_claim(ctx: Context, user_id: UUID, body: bytes) -> UUID:
    """The claim a process leaves when it dies before storing the answer; its hold id."""
    hold_id, now = uuid4(), ctx.clock.now()
    claim = repo.NewClaim(
        request_hash=hashlib.sha256(body).hexdigest(),
        resource_id=hold_id,
        now=now,
        lease_until=now + timedelta(seconds=ctx.settings.idempotency_lease_seconds),
        expires_at=now + timedelta(seconds=ctx.settings.idempotency_key_ttl_seconds),
    )
    async with ctx.db.write() as conn:
        assert await repo.insert_claim(conn, repo.KeyRef(user_id, "POST /v1/holds", "k"), claim)
    return hold_id


async def stored_key(ctx: Context, user_id: UUID) -> repo.StoredKey:
    async with ctx.db.read() as conn:
        key = await repo.read(conn, repo.KeyRef(user_id, "POST /v1/holds", "k"))
    assert key is not None
    return key
