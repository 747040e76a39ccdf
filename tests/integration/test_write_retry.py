"""A write transaction chosen as a deadlock victim runs again, whole (PostgreSQL)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from slotbook.adapters.db.retry import write_retrying
from slotbook.service_layer.context import Context

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]


async def test_a_deadlock_victim_is_retried_and_both_writers_finish(ctx: Context) -> None:
    both_hold_their_first = asyncio.Barrier(2)
    runs: list[str] = []

    async def writer(name: str, first: int, second: int) -> str:
        async def work(conn: AsyncConnection) -> str:
            runs.append(name)
            await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": first})
            if runs.count(name) == 1:  # the first attempt of each waits for the other
                await both_hold_their_first.wait()
            await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": second})
            return name

        return await write_retrying(ctx.db, work)

    done = await asyncio.wait_for(asyncio.gather(writer("a", 1, 2), writer("b", 2, 1)), timeout=30)
    assert done == ["a", "b"]
    assert sorted(runs) in (["a", "a", "b"], ["a", "b", "b"])  # one victim, run twice
