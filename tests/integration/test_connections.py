"""Connections that die: TCP keepalives on both pools, so a peer that vanished without a
word (a failover behind a partition) is noticed within seconds, not minutes."""

from __future__ import annotations

import socket
from datetime import timedelta
from typing import Any

import pytest

from slotbook.adapters.db.connections import create_bounded_pool
from slotbook.adapters.db.engine import libpq_dsn
from slotbook.adapters.db.pg_hold_lock import PgHoldStore
from slotbook.adapters.db.pg_hold_reads import ALTERNATIVES_SQL
from slotbook.config import Settings
from slotbook.service_layer.context import Context
from tests import builders
from tests.conftest import START

pytestmark = pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
KEEPALIVE = {
    "db_tcp_keepalive_idle_seconds": 4,
    "db_tcp_keepalive_interval_seconds": 1,
    "db_tcp_keepalive_count": 3,
}


def tcp_options(asyncpg_connection: Any) -> tuple[int, int, int, int, int]:
    sock = asyncpg_connection._transport.get_extra_info("socket")
    return (
        sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE),
        sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE),
        sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL),
        sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT),
        sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT),
    )


async def test_the_hot_path_pool_sets_keepalives(settings: Settings) -> None:
    pool = await create_bounded_pool(
        libpq_dsn(settings.database_url), settings.model_copy(update=KEEPALIVE)
    )
    try:
        async with pool.acquire() as conn:
            assert tcp_options(conn) == (1, 4, 1, 3, 7000)
    finally:
        await pool.close()


async def test_the_request_pool_sets_keepalives(ctx: Context) -> None:
    defaults = ctx.settings
    async with ctx.db.read() as conn:
        raw = await conn.get_raw_connection()
        options = tcp_options(raw.driver_connection)
    expected_timeout = 1000 * (
        defaults.db_tcp_keepalive_idle_seconds
        + defaults.db_tcp_keepalive_interval_seconds * defaults.db_tcp_keepalive_count
    )
    assert options == (
        1,
        defaults.db_tcp_keepalive_idle_seconds,
        defaults.db_tcp_keepalive_interval_seconds,
        defaults.db_tcp_keepalive_count,
        expected_timeout,
    )


async def test_the_statement_timeout_is_the_servers(ctx: Context) -> None:
    async with ctx.db.read() as conn:
        milliseconds = (
            await conn.exec_driver_sql(
                "SELECT setting FROM pg_settings WHERE name = 'statement_timeout'"
            )
        ).scalar_one()
    assert int(milliseconds) == int(ctx.settings.db_statement_timeout_seconds * 1000)


async def test_the_hot_path_pool_plans_a_statement_once(ctx: Context) -> None:
    """PostgreSQL would plan the alternatives' index walks anew on every call (a custom
    plan costs 0.5 ms, three times the walk): the hot path's statements keep one plan."""
    _, (slot, *_) = await builders.provider_with_slots(ctx, first=START + timedelta(days=1))
    pool = await create_bounded_pool(libpq_dsn(ctx.settings.database_url), ctx.settings, size=1)
    store = PgHoldStore(pool)
    try:
        for _ in range(8):
            assert await store.alternatives(slot, now=START, limit=5)
        async with pool.acquire() as conn:
            plans = await conn.fetchrow(
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
                " WHERE statement = $1",
                ALTERNATIVES_SQL,
            )
    finally:
        await store.close()
    assert (plans["generic_plans"], plans["custom_plans"]) == (8, 0)
