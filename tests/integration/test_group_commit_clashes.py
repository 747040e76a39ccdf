"""A batch that clashes: every one of its requests still gets its own, correct answer.

A real concurrent transaction places a hold for a customer of the batch (the batch's
insert then breaks the one-active-hold-per-customer index), or locks the batch's slots in
the opposite order (a deadlock): the batch is placed again, whole. A request that fails
every time goes alone in the end, and only it is refused.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import asyncpg
import pytest

from slotbook.adapters.db.engine import libpq_dsn
from slotbook.adapters.db.pg_hold_batch import BatchingHoldStore
from slotbook.domain.errors import DatabaseUnavailable, HoldContended
from slotbook.domain.holds import hold_expiry
from slotbook.domain.ports import LockRequest
from slotbook.domain.states import HoldStatus, ReleaseReason
from slotbook.service_layer import holds
from slotbook.service_layer.context import Context
from tests import builders
from tests.conftest import START

POSTGRES_ONLY = pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
DAY = START + timedelta(days=1)
WAIT_SECONDS = 10.0
WAITING_ON_A_LOCK = (
    "SELECT count(*) FROM pg_stat_activity"
    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
)
HOLD_SLOT = "UPDATE slots SET status = 'held', hold_id = $1, held_until = $3 WHERE id = $2"
INSERT_HOLD = (
    "INSERT INTO holds (id, slot_id, provider_id, customer_id, status, created_at, expires_at,"
    " amount_minor, currency, active_slot_id, active_customer_id)"
    " SELECT $1, s.id, s.provider_id, $3, 'active', $4, $5, s.price_minor, s.currency, s.id, $3"
    " FROM slots AS s WHERE s.id = $2"
)
LOCK_SLOT = "SELECT 1 FROM slots WHERE id = $1 FOR UPDATE"


def requests(ctx: Context, pairs: list[tuple[uuid.UUID, uuid.UUID]]) -> list[LockRequest]:
    now = ctx.clock.now()
    expires = hold_expiry(now, ctx.settings.hold_ttl_seconds)
    return [LockRequest(uuid.uuid4(), slot, customer, now, expires) for slot, customer in pairs]


@asynccontextmanager
async def other_transaction(ctx: Context) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(libpq_dsn(ctx.settings.database_url))
    try:
        async with conn.transaction():
            yield conn
    finally:
        await conn.close()


async def until_someone_waits_on_a_lock(conn: asyncpg.Connection) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not await conn.fetchval(WAITING_ON_A_LOCK):
        assert time.monotonic() < deadline, "no connection came to wait on a lock"


def store(ctx: Context) -> BatchingHoldStore:
    assert isinstance(ctx.hold_store, BatchingHoldStore), "group commit is the default"
    return ctx.hold_store


@POSTGRES_ONLY
async def test_a_hold_placed_meanwhile_for_a_customer_of_the_batch(ctx: Context) -> None:
    _, slots = await builders.provider_with_slots(ctx, first=DAY, count=5)
    people = [await builders.customer(ctx) for _ in range(4)]
    wave = requests(ctx, [(s.id, p.id) for s, p in zip(slots, people, strict=False)])
    meanwhile = uuid.uuid4()
    observer = await asyncpg.connect(libpq_dsn(ctx.settings.database_url))
    try:
        async with other_transaction(ctx) as other:
            # the other process's hold for the first customer, on the fifth slot
            until = wave[0].expires_at
            await other.execute(HOLD_SLOT, meanwhile, slots[4].id, until)
            await other.execute(INSERT_HOLD, meanwhile, slots[4].id, people[0].id, START, until)
            placing = asyncio.gather(*(store(ctx).try_lock(r) for r in wave))
            await until_someone_waits_on_a_lock(observer)
        answers = await placing
    finally:
        await observer.close()
    assert [a.hold.id if a.hold else None for a in answers] == [r.hold_id for r in wave]
    assert store(ctx).stats.sizes == {4: 1}  # one batch, placed twice
    previous = await holds.get_hold(ctx, hold_id=meanwhile, customer_id=people[0].id)
    assert (previous.status, previous.release_reason) == (
        HoldStatus.RELEASED,
        ReleaseReason.SUPERSEDED,
    )


@POSTGRES_ONLY
async def test_a_deadlock_with_another_transaction(ctx: Context) -> None:
    _, slots = await builders.provider_with_slots(ctx, first=DAY, count=4)
    people = [await builders.customer(ctx) for _ in range(4)]
    wave = requests(ctx, [(s.id, p.id) for s, p in zip(slots, people, strict=True)])
    low, high = min(s.id for s in slots), max(s.id for s in slots)
    observer = await asyncpg.connect(libpq_dsn(ctx.settings.database_url))
    try:
        async with other_transaction(ctx) as other:
            await other.execute("SET LOCAL deadlock_timeout = '10s'")  # the batch notices first
            await other.execute(LOCK_SLOT, high)
            placing = asyncio.gather(*(store(ctx).try_lock(r) for r in wave))
            await until_someone_waits_on_a_lock(observer)  # the batch: low locked, high not
            await other.execute(LOCK_SLOT, low)  # granted once the batch is rolled back
            assert not placing.done()  # the batch gave its locks up without an answer
        answers = await placing
    finally:
        await observer.close()
    assert [a.hold.id if a.hold else None for a in answers] == [r.hold_id for r in wave]
    assert store(ctx).stats.sizes == {4: 1}


CLASH_FOR = (
    "CREATE FUNCTION injected_clash() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF NEW.customer_id = '{customer}' THEN RAISE unique_violation USING "
    "MESSAGE = 'injected', CONSTRAINT = 'holds_one_customer'; END IF; RETURN NEW; END $$"
)


@POSTGRES_ONLY
async def test_a_request_that_always_fails_fails_alone(ctx: Context) -> None:
    _, slots = await builders.provider_with_slots(ctx, first=DAY, count=4)
    people = [await builders.customer(ctx) for _ in range(4)]
    wave = requests(ctx, [(s.id, p.id) for s, p in zip(slots, people, strict=True)])
    plant = [
        CLASH_FOR.format(customer=people[2].id),
        "CREATE TRIGGER injected_clash BEFORE INSERT ON holds "
        "FOR EACH ROW EXECUTE FUNCTION injected_clash()",
    ]
    async with ctx.db.write() as conn:
        for statement in plant:
            await conn.exec_driver_sql(statement)
    try:
        answers = await asyncio.gather(
            *(store(ctx).try_lock(r) for r in wave), return_exceptions=True
        )
    finally:
        async with ctx.db.write() as conn:
            await conn.exec_driver_sql("DROP TRIGGER injected_clash ON holds")
            await conn.exec_driver_sql("DROP FUNCTION injected_clash()")
    assert isinstance(answers[2], HoldContended)
    for i in (0, 1, 3):
        answer = answers[i]
        assert not isinstance(answer, BaseException)
        assert answer.hold is not None
        assert answer.hold.id == wave[i].hold_id
    assert store(ctx).stats.sizes == {4: 1}


@POSTGRES_ONLY
async def test_closing_answers_the_batch_in_flight_and_the_queue_behind_it(
    ctx: Context,
) -> None:
    """A process shutting down leaves no caller waiting: the batch whose statement is
    still running and the requests queued behind it are answered 503 unavailable."""
    _, slots = await builders.provider_with_slots(ctx, first=DAY, count=2)
    people = [await builders.customer(ctx) for _ in range(2)]
    first, queued = requests(ctx, [(s.id, p.id) for s, p in zip(slots, people, strict=True)])
    observer = await asyncpg.connect(libpq_dsn(ctx.settings.database_url))
    try:
        async with other_transaction(ctx) as other:
            await other.execute(LOCK_SLOT, first.slot_id)
            in_flight = asyncio.ensure_future(store(ctx).try_lock(first))
            await until_someone_waits_on_a_lock(observer)  # the one placer is busy
            behind = asyncio.ensure_future(store(ctx).try_lock(queued))
            closing = asyncio.ensure_future(store(ctx).close())
            for answer in (in_flight, behind):
                with pytest.raises(DatabaseUnavailable, match="shutting down"):
                    await answer
        await closing
        taken = await observer.fetchval("SELECT count(*) FROM holds")
    finally:
        await observer.close()
    assert taken == 0
