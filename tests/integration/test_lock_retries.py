"""The lock statement's retries on PostgreSQL, with the clashes planted as a trigger.

Two holds of one customer in two processes clash on the one-active-hold-per-customer
index, and two supersedes swapping slots may deadlock; both are retried from scratch
after a jittered pause, within a time budget, and past it the customer is asked to retry.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import pytest

from slotbook.domain.errors import HoldContended
from slotbook.domain.states import SlotStatus
from slotbook.service_layer import catalog, holds
from slotbook.service_layer.context import Context
from tests import builders
from tests.conftest import START

POSTGRES_ONLY = pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
DAY = START + timedelta(days=1)
CLASHES = {
    "unique": (
        "RAISE unique_violation USING MESSAGE = 'injected', CONSTRAINT = 'holds_one_customer'"
    ),
    "deadlock": "RAISE deadlock_detected USING MESSAGE = 'injected'",
}


@asynccontextmanager
async def clashes(ctx: Context, kind: str, times: int) -> AsyncIterator[None]:
    """Every insert of a hold fails with `kind` for its first `times` attempts."""
    plant = [
        "CREATE SEQUENCE injected_clashes",
        "CREATE FUNCTION injected_clash() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF nextval('injected_clashes') <= {times} THEN {CLASHES[kind]}; END IF; "
        "RETURN NEW; END $$",
        "CREATE TRIGGER injected_clash BEFORE INSERT ON holds "
        "FOR EACH ROW EXECUTE FUNCTION injected_clash()",
    ]
    async with ctx.db.write() as conn:
        for statement in plant:
            await conn.exec_driver_sql(statement)
    try:
        yield
    finally:
        async with ctx.db.write() as conn:
            await conn.exec_driver_sql("DROP TRIGGER injected_clash ON holds")
            await conn.exec_driver_sql("DROP FUNCTION injected_clash()")
            await conn.exec_driver_sql("DROP SEQUENCE injected_clashes")


async def attempts(ctx: Context) -> int:
    async with ctx.db.read() as conn:
        seen = await conn.exec_driver_sql("SELECT last_value FROM injected_clashes")
        return int(seen.scalar_one())


@POSTGRES_ONLY
@pytest.mark.parametrize("kind", sorted(CLASHES))
async def test_a_clash_is_retried_until_the_hold_is_granted(ctx: Context, kind: str) -> None:
    _, (slot,) = await builders.provider_with_slots(ctx, first=DAY, count=1)
    alice = await builders.customer(ctx)
    async with clashes(ctx, kind, times=3):
        placed = await holds.place_hold(ctx, slot_id=slot.id, customer_id=alice.id)
        assert await attempts(ctx) == 4
    assert placed.created


@POSTGRES_ONLY
async def test_clashes_past_the_budget_ask_the_customer_to_retry(ctx: Context) -> None:
    _, (slot,) = await builders.provider_with_slots(ctx, first=DAY, count=1)
    alice = await builders.customer(ctx)
    async with clashes(ctx, "unique", times=1_000_000):
        with pytest.raises(HoldContended) as refused:
            await holds.place_hold(ctx, slot_id=slot.id, customer_id=alice.id)
    assert refused.value.retry_after_seconds == 1
    assert (await catalog.get_slot(ctx, slot_id=slot.id)).status is SlotStatus.AVAILABLE
