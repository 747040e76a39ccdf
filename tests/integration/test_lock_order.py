"""The lock order on PostgreSQL, where a row lock waits: slot, then hold, for every writer.

Cancel used to lock the hold before its slot, and supersede the previous hold before its
slot, while the lock statement locks a slot before the hold it takes over: they crossed on
a just-expired hold and deadlocked (a 1 s stall, then an error or a retry).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import asyncpg
import pytest

from slotbook.adapters.clock import ManualClock
from slotbook.adapters.db.engine import libpq_dsn
from slotbook.bootstrap import build_context, close_context
from slotbook.config import Settings
from slotbook.domain.holds import Hold
from slotbook.domain.states import HoldStatus, ReleaseReason
from slotbook.service_layer import holds
from slotbook.service_layer.context import Context
from tests import builders
from tests.conftest import START

POSTGRES_ONLY = pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
ROUNDS = 500
TTL = 600
FAR = START + timedelta(days=30)  # after every round's clock
WAIT_SECONDS = 10.0

DEADLOCKS = "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"
OTHERS = (
    "SELECT count(*) FROM pg_stat_activity"
    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
)
WAITING_ON_A_LOCK = (
    "SELECT count(*) FROM pg_stat_activity"
    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
)
LOCK_SLOT = "SELECT 1 FROM slots WHERE id = $1 FOR UPDATE"
TAKE_OVER = (
    "UPDATE holds SET status = 'released', release_reason = 'expired', released_at = $2,"
    " active_slot_id = NULL, active_customer_id = NULL WHERE id = $1"
)


async def deadlocks_after_others_left(conn: asyncpg.Connection) -> int:
    """The database's deadlock count once every other connection has ended (a backend
    reports its counts when it ends, at the latest)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while await conn.fetchval(OTHERS):
        assert time.monotonic() < deadline, "other connections did not end"
    await conn.execute("SELECT pg_stat_clear_snapshot()")
    count: int = await conn.fetchval(DEADLOCKS)
    return count


@asynccontextmanager
async def no_new_deadlock(settings: Settings, clock: ManualClock) -> AsyncIterator[Context]:
    """A context of its own; once it is closed, the database counts no new deadlock."""
    observer = await asyncpg.connect(libpq_dsn(settings.database_url))
    try:
        before = await deadlocks_after_others_left(observer)
        ctx = await build_context(settings, clock=clock)
        try:
            yield ctx
        finally:
            await close_context(ctx)
        assert await deadlocks_after_others_left(observer) == before, "a deadlock happened"
    finally:
        await observer.close()


async def until_someone_waits_on_a_lock(conn: asyncpg.Connection) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not await conn.fetchval(WAITING_ON_A_LOCK):
        assert time.monotonic() < deadline, "no connection came to wait on a lock"


def assert_expired(hold: object) -> None:
    assert isinstance(hold, Hold), repr(hold)
    assert (hold.status, hold.release_reason) == (HoldStatus.RELEASED, ReleaseReason.EXPIRED)


@POSTGRES_ONLY
async def test_cancel_racing_a_takeover_of_the_same_expired_hold(
    settings: Settings, clock: ManualClock
) -> None:
    async with no_new_deadlock(settings, clock) as ctx:
        _, slots = await builders.provider_with_slots(ctx, first=FAR, count=2)
        alice, bob = await builders.customer(ctx), await builders.customer(ctx)
        for round_ in range(ROUNDS):
            slot = slots[round_ % 2]  # bob's hold on the other one is superseded below
            hold = (await holds.place_hold(ctx, slot_id=slot.id, customer_id=alice.id)).hold
            clock.advance(TTL)
            cancelled, taken = await asyncio.gather(
                holds.cancel_hold(ctx, hold_id=hold.id, customer_id=alice.id),
                holds.place_hold(ctx, slot_id=slot.id, customer_id=bob.id),
                return_exceptions=True,
            )
            assert_expired(cancelled)
            assert isinstance(taken, holds.HoldPlaced), (round_, repr(taken))
            assert taken.created, round_


@POSTGRES_ONLY
async def test_cancel_locks_the_slot_before_the_hold(
    settings: Settings, clock: ManualClock
) -> None:
    """A writer holding the slot, as the lock statement does before its takeover, can
    still take the hold: cancel waits for the slot and has not locked the hold."""
    async with no_new_deadlock(settings, clock) as ctx:
        _, (slot,) = await builders.provider_with_slots(ctx, first=FAR, count=1)
        alice = await builders.customer(ctx)
        hold = (await holds.place_hold(ctx, slot_id=slot.id, customer_id=alice.id)).hold
        clock.advance(TTL)
        writer = await asyncpg.connect(libpq_dsn(settings.database_url))
        try:
            async with writer.transaction():
                await writer.execute(LOCK_SLOT, slot.id)
                cancel = asyncio.create_task(
                    holds.cancel_hold(ctx, hold_id=hold.id, customer_id=alice.id)
                )
                await until_someone_waits_on_a_lock(writer)
                await writer.execute(TAKE_OVER, hold.id, clock.now())
            assert_expired(await cancel)
        finally:
            await writer.close()


@POSTGRES_ONLY
async def test_supersede_locks_the_previous_slot_before_the_previous_hold(
    settings: Settings, clock: ManualClock
) -> None:
    """A writer holding the previous hold's slot (taking it over, say) can still take
    that hold while the customer's new hold waits for the slot."""
    async with no_new_deadlock(settings, clock) as ctx:
        _, (old, new) = await builders.provider_with_slots(ctx, first=FAR, count=2)
        alice = await builders.customer(ctx)
        previous = (await holds.place_hold(ctx, slot_id=old.id, customer_id=alice.id)).hold
        clock.advance(TTL)
        writer = await asyncpg.connect(libpq_dsn(settings.database_url))
        try:
            async with writer.transaction():
                await writer.execute(LOCK_SLOT, old.id)
                placing = asyncio.create_task(
                    holds.place_hold(ctx, slot_id=new.id, customer_id=alice.id)
                )
                await until_someone_waits_on_a_lock(writer)
                await writer.execute(TAKE_OVER, previous.id, clock.now())
            assert (await placing).created
        finally:
            await writer.close()
        assert_expired(await holds.get_hold(ctx, hold_id=previous.id, customer_id=alice.id))
