"""Group commit against one statement per hold: the same random streams, the same answers
and the same tables, on PostgreSQL.

Two databases start with the same catalog. A stream is a series of waves: the clock moves
on (holds run out, a slot comes to start), then a wave of requests arrives at once. The
batching store places each wave in batches (one placer, batches of at most K, a customer
twice in a wave in a later batch); the single-statement store places the same requests one
at a time, in the serial order a batch stands for (docs/group-commit.md): the requests
refused by the slot as it was, then the granted ones, then those that lost their slot to
another of the batch, each group in arrival order.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slotbook.adapters.clock import ManualClock
from slotbook.adapters.db.connections import create_bounded_pool
from slotbook.adapters.db.pg_hold_lock import PgHoldStore
from slotbook.bootstrap import batching_hold_store, build_context, close_context
from slotbook.config import Settings, load_settings
from slotbook.domain.ports import HoldStore, LockRequest, LockResult
from tests import builders
from tests import databases as dbs
from tests.conftest import FAST_HASH, SECRETS, START

pytestmark = pytest.mark.postgres
K = 4  # small, so that waves overflow into several batches
TTL = 600
SLOTS, CUSTOMERS = 6, 5
CATALOG = ("users", "providers", "services", "slots")


@dataclass(frozen=True)
class World:
    batched_url: str
    single_url: str
    slot_ids: list[uuid.UUID]
    customer_ids: list[uuid.UUID]  # and one more that has no account


def _settings(url: str, connections: int) -> Settings:
    return load_settings(
        database_url=url,
        env="test",
        hold_ttl_seconds=TTL,
        hold_batch_size=K,
        hold_batch_connections=connections,
        **FAST_HASH,
        **SECRETS,
    )


async def _seed(batched_url: str, single_url: str) -> World:
    """The catalog, made through the service in one database and copied to the other: the
    first slot starts 20 minutes after the clock's start, the others on the hour after."""
    ctx = await build_context(_settings(batched_url, 0), clock=ManualClock(START))
    try:
        _, slots = await builders.provider_with_slots(
            ctx, first=START + timedelta(minutes=20), count=SLOTS
        )
        customers = [await builders.customer(ctx) for _ in range(CUSTOMERS)]
    finally:
        await close_context(ctx)
    source, target = await asyncpg.connect(batched_url), await asyncpg.connect(single_url)
    try:
        for table in CATALOG:
            rows = await source.fetch(f"SELECT * FROM {table}")
            await target.copy_records_to_table(
                table, records=[tuple(r.values()) for r in rows], columns=list(rows[0].keys())
            )
    finally:
        await source.close()
        await target.close()
    return World(
        batched_url,
        single_url,
        [s.id for s in slots],
        [c.id for c in customers] + [uuid.uuid4()],
    )


@pytest.fixture(scope="module")
def world(pg_template_url: str | None) -> Iterator[World]:
    dbs.require_postgres(pg_template_url is not None)
    urls = [asyncio.run(dbs.create_pg_database()) for _ in range(2)]
    try:
        for url in urls:
            dbs.upgrade(url)
        yield asyncio.run(_seed(*urls))
    finally:
        for url in urls:
            asyncio.run(dbs.drop_pg_database(url))


RESET = (
    "UPDATE slots SET status = 'available', hold_id = NULL, held_until = NULL",
    "DELETE FROM outbox",
    "DELETE FROM holds",
)
TABLES = (
    "SELECT * FROM holds ORDER BY id",
    "SELECT id, status, hold_id, held_until FROM slots ORDER BY id",
    "SELECT kind, subject_id, due_at FROM outbox ORDER BY subject_id",
)


async def _reset(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        for statement in RESET:
            await conn.execute(statement)
    finally:
        await conn.close()


async def _tables(url: str) -> list[list[dict[str, Any]]]:
    conn = await asyncpg.connect(url)
    try:
        return [[dict(r) for r in await conn.fetch(q)] for q in TABLES]
    finally:
        await conn.close()


def _outcome(answer: LockResult | BaseException) -> object:
    """What the service would make of an answer: a hold, a refusal as seen, or an error."""
    if isinstance(answer, BaseException):
        return type(answer).__name__
    if answer.hold is not None:
        return ("held", answer.hold)
    if answer.seen is not None and not answer.seen.customer_known:
        return "AccountGone"
    return ("refused", answer.seen)


def _batches(wave: Sequence[LockRequest]) -> list[list[int]]:
    """The batches one placer makes of a wave: up to K in arrival order, a customer once."""
    waiting, batches = list(range(len(wave))), []
    while waiting:
        batch: list[int] = []
        for i in waiting:
            if len(batch) < K and wave[i].customer_id not in {wave[j].customer_id for j in batch}:
                batch.append(i)
        batches.append(batch)
        waiting = [i for i in waiting if i not in batch]
    return batches


def _serial(wave: Sequence[LockRequest], batch: list[int], answers: list[Any]) -> list[int]:
    """The serial order a batch stands for: refused as the slot was, granted, lost."""
    won = {wave[i].slot_id for i in batch if _granted(answers[i])}
    granted = [i for i in batch if _granted(answers[i])]
    lost = [i for i in batch if i not in granted and wave[i].slot_id in won]
    return [i for i in batch if i not in granted and i not in lost] + granted + lost


def _granted(answer: object) -> bool:
    return isinstance(answer, LockResult) and answer.hold is not None


async def _gather(store: HoldStore, wave: Sequence[LockRequest]) -> list[Any]:
    return list(await asyncio.gather(*(store.try_lock(r) for r in wave), return_exceptions=True))


async def _run(world: World, stream: list[tuple[int, list[tuple[int, int]]]]) -> None:
    await asyncio.gather(_reset(world.batched_url), _reset(world.single_url))
    batched_settings = _settings(world.batched_url, 1)
    batched = await batching_hold_store(
        batched_settings,
        PgHoldStore(await create_bounded_pool(world.batched_url, batched_settings)),
    )
    single = PgHoldStore(
        await create_bounded_pool(world.single_url, _settings(world.single_url, 0))
    )
    predicted: Counter[int] = Counter()
    try:
        now = START
        for advance, picks in stream:
            now += timedelta(seconds=advance)
            wave = [
                LockRequest(
                    hold_id=uuid.uuid4(),
                    slot_id=world.slot_ids[slot],
                    customer_id=world.customer_ids[customer],
                    now=now,
                    expires_at=now + timedelta(seconds=TTL),
                )
                for customer, slot in picks
            ]
            answers = await _gather(batched, wave)
            for batch in _batches(wave):
                predicted[len(batch)] += 1
                for i in _serial(wave, batch, answers):
                    (alone,) = await _gather(single, [wave[i]])
                    assert _outcome(answers[i]) == _outcome(alone), (i, wave[i])
        assert batched.stats.sizes == predicted  # the batches were those replayed
    finally:
        await batched.close()
        await single.close()
    batched_tables, single_tables = await asyncio.gather(
        _tables(world.batched_url), _tables(world.single_url)
    )
    assert batched_tables == single_tables


hot_slot = st.one_of(st.just(0), st.just(1), st.integers(0, SLOTS - 1))
request = st.tuples(st.integers(0, CUSTOMERS), hot_slot)  # CUSTOMERS: the one without account
waves = st.lists(
    st.tuples(st.sampled_from([0, 0, 60, 300, 601]), st.lists(request, min_size=1, max_size=10)),
    min_size=1,
    max_size=8,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stream=waves)
def test_batches_answer_and_write_as_one_hold_at_a_time(
    world: World, stream: list[tuple[int, list[tuple[int, int]]]]
) -> None:
    asyncio.run(_run(world, stream))
