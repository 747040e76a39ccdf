"""Sweepers as processes of their own: two `slotbook sweeper` next to a server (which runs
one in-process too), all on one PostgreSQL database, release 20 expired holds, each
within a second of its deadline."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta

import asyncpg
import pytest

from tests.e2e.booking import client_for, hourly, open_catalog, sign_up_customers, tomorrow_at
from tests.e2e.servers import Launcher

HOLDS = 20
TTL_SECONDS = 1
SWEEP_DEADLINE_SECONDS = TTL_SECONDS + 5.0
POLL_INTERVAL_SECONDS = 0.05
MAX_LATENESS = timedelta(seconds=1)

EXPIRED_HOLDS = """
SELECT id, released_at, expires_at FROM holds
 WHERE id = ANY($1::uuid[]) AND status = 'released' AND release_reason = 'expired'
"""
FREED_SLOTS = """
SELECT count(*) FROM slots
 WHERE id = ANY($1::uuid[]) AND status = 'available' AND hold_id IS NULL
"""


async def expired_holds(url: str, hold_ids: list[uuid.UUID]) -> list[asyncpg.Record]:
    """Poll the holds table until every hold reads released/expired (or the deadline)."""
    conn = await asyncpg.connect(url, timeout=5)
    try:
        deadline = time.monotonic() + SWEEP_DEADLINE_SECONDS
        while True:
            rows: list[asyncpg.Record] = await conn.fetch(EXPIRED_HOLDS, hold_ids)
            if len(rows) == len(hold_ids) or time.monotonic() >= deadline:
                return rows
            await asyncio.sleep(POLL_INTERVAL_SECONDS)
    finally:
        await conn.close()


async def count_freed_slots(url: str, slot_ids: list[uuid.UUID]) -> int:
    conn = await asyncpg.connect(url, timeout=5)
    try:
        freed: int = await conn.fetchval(FREED_SLOTS, slot_ids)
        return freed
    finally:
        await conn.close()


@pytest.mark.e2e
@pytest.mark.postgres
async def test_two_sweeper_processes_release_expired_holds_on_time(launch: Launcher) -> None:
    url = await launch.postgres()
    ttl = {"SLOTBOOK_HOLD_TTL_SECONDS": str(TTL_SECONDS)}
    server = await launch.server(url, workers=1, **ttl)
    sweepers = await asyncio.gather(*(launch.sweeper(url, **ttl) for _ in range(2)))

    async with client_for(server.url) as client:
        customers = await sign_up_customers(client, HOLDS)
        catalog = await open_catalog(client, "gamma", hourly(tomorrow_at(9), HOLDS))
        taken = await asyncio.gather(
            *(
                client.post("/v1/holds", json={"slot_id": slot_id}, headers=customer.headers)
                for customer, slot_id in zip(customers, catalog.slot_ids, strict=True)
            )
        )
        assert [a.status_code for a in taken] == [201] * HOLDS, [a.text for a in taken]
        hold_ids = [uuid.UUID(a.json()["id"]) for a in taken]

        rows = await expired_holds(url, hold_ids)
        assert len(rows) == HOLDS, f"{HOLDS - len(rows)} holds not released as expired in time"
        for row in rows:
            lateness = row["released_at"] - row["expires_at"]
            assert timedelta(0) <= lateness <= MAX_LATENESS, (row["id"], lateness)

        slot_ids = [uuid.UUID(s) for s in catalog.slot_ids]
        assert await count_freed_slots(url, slot_ids) == HOLDS
        for slot_id, customer, hold_id in zip(slot_ids, customers, hold_ids, strict=True):
            slot = await client.get(f"/v1/slots/{slot_id}")
            assert slot.status_code == 200, slot.text
            assert slot.json()["status"] == "available"
            hold = await client.get(f"/v1/holds/{hold_id}", headers=customer.headers)
            assert hold.status_code == 200, hold.text
            assert (hold.json()["status"], hold.json()["release_reason"]) == (
                "released",
                "expired",
            )

    for sweeper in sweepers:
        assert sweeper.running, sweeper.tail()
        assert await launch.stop(sweeper) == 0, sweeper.tail()
