"""Materialising availability under faults and races, on SQLite and PostgreSQL: all of a
provider's changes or none, and never a slot twice."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from slotbook.adapters.clock import ManualClock
from slotbook.adapters.db.repos import availability as repo
from slotbook.service_layer import availability
from slotbook.service_layer.context import Context
from tests.e2e.http_helpers import count_rows
from tests.integration.test_availability import provider, weekly

FAULT = {
    "sqlite": [
        "CREATE TRIGGER injected_fault BEFORE INSERT ON availability_slots "
        "BEGIN SELECT RAISE(FAIL, 'injected fault'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION injected_fault() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION 'injected fault'; END $$",
        "CREATE TRIGGER injected_fault BEFORE INSERT ON availability_slots "
        "FOR EACH ROW EXECUTE FUNCTION injected_fault()",
    ],
}
CLEANUP = {
    "sqlite": ["DROP TRIGGER injected_fault"],
    "postgresql": [
        "DROP TRIGGER injected_fault ON availability_slots",
        "DROP FUNCTION injected_fault()",
    ],
}


async def run_sql(ctx: Context, statements: list[str]) -> None:
    async with ctx.db.write() as conn:
        for statement in statements:
            await conn.exec_driver_sql(statement)


async def test_a_fault_leaves_no_slot_and_retries_a_minute_later(
    ctx: Context, clock: ManualClock
) -> None:
    provider_id, service_id = await provider(ctx, "Europe/London")
    await availability.publish(
        ctx, provider_id=provider_id, availability=weekly(service_id, 540, 600), timezone=None
    )
    dialect = "sqlite" if ctx.db.is_sqlite else "postgresql"
    await run_sql(ctx, FAULT[dialect])
    try:
        assert await availability.materialise_due(ctx) == 0
    finally:
        await run_sql(ctx, CLEANUP[dialect])
    assert await count_rows(ctx, "slots") == 0  # the slots went in before the fault
    async with ctx.db.read() as conn:
        stored = await repo.read(conn, provider_id)
    assert stored is not None
    assert stored.materialised_version is None
    assert stored.due_at == clock.now() + timedelta(minutes=1)
    assert await availability.materialise_due(ctx) == 0  # not yet
    clock.advance(60)
    assert await availability.materialise_due(ctx) == 1
    assert await count_rows(ctx, "slots") == ctx.settings.availability_horizon_days


async def test_workers_at_once_open_each_slot_once(ctx: Context, clock: ManualClock) -> None:
    clock.set(datetime(2030, 1, 6, 17, tzinfo=UTC))
    made = [await provider(ctx, "Asia/Bangkok", minutes=m) for m in (30, 45, 60)]
    for provider_id, service_id in made:
        await availability.publish(
            ctx, provider_id=provider_id, availability=weekly(service_id, 540, 720), timezone=None
        )
    done = await asyncio.gather(*(availability.materialise_due(ctx) for _ in range(4)))
    assert sum(done) == 3
    days = ctx.settings.availability_horizon_days
    assert await count_rows(ctx, "slots") == days * (6 + 4 + 3)
    assert await count_rows(ctx, "availability_slots") == days * (6 + 4 + 3)
