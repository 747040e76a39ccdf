"""One customer's parallel holds against two real worker processes on PostgreSQL.

In-process ordering cannot reach across processes: there the database's unique index and
the retries settle the race. Every answer must be a grant or a truthful, retryable
refusal, and one active hold must remain.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import asyncpg
import httpx
import pytest

from tests.e2e.booking import Account, client_for, hourly, open_catalog, sign_up, tomorrow_at
from tests.e2e.servers import Launcher

PARALLEL = 20
ROUNDS = 50
WORKERS = 2

ACTIVE_HOLDS = "SELECT slot_id FROM holds WHERE customer_id = $1 AND status = 'active'"
HELD_SLOTS = "SELECT id FROM slots WHERE id = ANY($1::uuid[]) AND status = 'held'"


def kind(answer: httpx.Response) -> str:
    """201, or the status and problem type of anything else."""
    if answer.status_code == 201:
        return "201"
    return f"{answer.status_code} {answer.json().get('type')}"


async def hold_all(
    client: httpx.AsyncClient, customer: Account, slot_ids: list[str]
) -> list[httpx.Response]:
    """One POST /v1/holds per slot, all at once, each on its own connection."""
    return await asyncio.gather(
        *(
            client.post(
                "/v1/holds",
                json={"slot_id": slot_id},
                headers=customer.headers,
                extensions={"lane": lane},
            )
            for lane, slot_id in enumerate(slot_ids)
        )
    )


@pytest.mark.e2e
@pytest.mark.postgres
async def test_one_customers_parallel_holds_across_two_workers(launch: Launcher) -> None:
    url = await launch.postgres()
    server = await launch.server(url, workers=WORKERS)
    outcomes: Counter[str] = Counter()
    async with client_for(server.url, lanes=PARALLEL) as client:
        alice = await sign_up(client, "customer", "alice")
        catalog = await open_catalog(client, "delta", hourly(tomorrow_at(6), 2 * PARALLEL))
        conn = await asyncpg.connect(url)
        try:
            for round_ in range(ROUNDS):
                half = PARALLEL * (round_ % 2)
                batch = catalog.slot_ids[half : half + PARALLEL]
                answers = await hold_all(client, alice, batch)
                outcomes.update(kind(a) for a in answers)
                assert all(a.status_code in (201, 409) for a in answers), [a.text for a in answers]
                for refused in (a for a in answers if a.status_code == 409):
                    assert refused.json()["type"].endswith("/hold-contended"), refused.text
                    assert int(refused.headers["retry-after"]) >= 1
                active = await conn.fetch(ACTIVE_HOLDS, uuid.UUID(alice.user_id))
                held = await conn.fetch(HELD_SLOTS, [uuid.UUID(s) for s in batch])
                assert len(active) == 1, (round_, outcomes)
                assert [r["id"] for r in held] == [active[0]["slot_id"]], round_
        finally:
            await conn.close()
    assert outcomes["201"] >= ROUNDS * PARALLEL * 0.9, outcomes
    errors = [r for r in server.process.log_records() if r.get("level") in ("error", "critical")]
    assert errors == []
