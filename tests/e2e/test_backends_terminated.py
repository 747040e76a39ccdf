"""Every backend of the service terminated under it (the server left running): the next
requests reconnect and succeed, on the hot path and through the request pool alike."""

from __future__ import annotations

import asyncpg
import pytest

from tests.e2e.booking import client_for, hourly, open_catalog, sign_up, tomorrow_at
from tests.e2e.servers import Launcher

HOLDS_AFTER = 30
TERMINATIONS = 15


async def terminate_backends(database_url: str) -> int:
    """pg_terminate_backend for every other session of the database; how many."""
    conn = await asyncpg.connect(database_url)
    try:
        killed: int = await conn.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await conn.close()
    return killed


@pytest.mark.e2e
@pytest.mark.postgres
async def test_holds_and_reads_succeed_after_every_backend_is_terminated(
    launch: Launcher,
) -> None:
    url = await launch.postgres()
    server = await launch.server(url)
    async with client_for(server.url) as client:
        catalog = await open_catalog(client, "restart", hourly(tomorrow_at(6), HOLDS_AFTER + 1))
        alice = await sign_up(client, "customer", "alice")
        first = await client.post(
            "/v1/holds", json={"slot_id": catalog.slot_ids[0]}, headers=alice.headers
        )
        assert first.status_code == 201, first.text

        assert await terminate_backends(url) >= 2  # both pools had a connection open

        codes = []
        for slot_id in catalog.slot_ids[1:]:
            answer = await client.post(
                "/v1/holds", json={"slot_id": slot_id}, headers=alice.headers
            )
            codes.append(answer.status_code)
        me = await client.get("/v1/me", headers=alice.headers)
        listed = await client.get(f"/v1/providers/{catalog.provider.provider_id}/slots")
    assert codes == [201] * HOLDS_AFTER, server.process.tail(30)
    assert me.status_code == 200, me.text
    assert listed.status_code == 200, listed.text


@pytest.mark.e2e
@pytest.mark.postgres
async def test_a_hold_right_after_its_backend_is_terminated_succeeds(launch: Launcher) -> None:
    """The connection may die under the statement itself (mid-prepare, mid-answer): the
    hold is placed once on a new connection, or found placed, and answers 201."""
    url = await launch.postgres()
    server = await launch.server(url)
    async with client_for(server.url) as client:
        catalog = await open_catalog(client, "again", hourly(tomorrow_at(6), TERMINATIONS))
        alice = await sign_up(client, "customer", "alice")
        codes = []
        for slot_id in catalog.slot_ids:
            await terminate_backends(url)
            answer = await client.post(
                "/v1/holds", json={"slot_id": slot_id}, headers=alice.headers
            )
            codes.append(answer.status_code)
        holds = await client.get(f"/v1/providers/{catalog.provider.provider_id}/slots")
    assert codes == [201] * TERMINATIONS, server.process.tail(30)
    statuses = [s["status"] for s in holds.json()["slots"]]
    assert statuses == ["available"] * (TERMINATIONS - 1) + ["held"]  # each superseded
