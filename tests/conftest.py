"""Shared fixtures: real databases (SQLite always, PostgreSQL when reachable), a manual
clock, and the app wired through the same bootstrap as production."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from slotbook.adapters.clock import ManualClock
from slotbook.api.app import create_app
from slotbook.bootstrap import build_context, close_context
from slotbook.config import Settings, load_settings
from slotbook.service_layer.context import Context
from tests import databases as dbs
from tests.fakes import FakeGateway

START = datetime(2030, 1, 1, 8, 0, tzinfo=UTC)
FAST_HASH = {"argon2_time_cost": 1, "argon2_memory_kib": 1024}
SECRETS = {
    "jwt_secret": "test-jwt-secret-for-the-test-suite-0123456789",
    "sandbox_webhook_secret": "whsec_dGVzdC13ZWJob29rLXNlY3JldC1mb3ItdGhlLXN1aXRl",
}


@pytest.fixture(scope="session")
def pg_template_url() -> Iterator[str | None]:
    """One migrated PostgreSQL database for the session (None when unreachable)."""
    if not asyncio.run(dbs.pg_reachable()):
        yield None
        return
    url = asyncio.run(dbs.create_pg_database())
    dbs.upgrade(url)
    yield url
    asyncio.run(dbs.drop_pg_database(url))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return dbs.migrated_sqlite_template(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, sqlite_template: Path, tmp_path: Path) -> str:
    """A migrated, empty database: each test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return dbs.fresh_sqlite(sqlite_template, tmp_path)
    url: str | None = request.getfixturevalue("pg_template_url")
    dbs.require_postgres(url is not None)
    assert url is not None
    asyncio.run(dbs.truncate_pg(url))
    return url


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return load_settings(
        database_url=database_url,
        env="test",
        hold_ttl_seconds=600,
        db_pool_size=20,
        **FAST_HASH,
        **SECRETS,
    )


@pytest.fixture
def gateway() -> FakeGateway:
    """The payment gateway of `ctx`: in memory (the sandbox runs as a process in e2e)."""
    return FakeGateway()


@pytest.fixture
async def ctx(
    settings: Settings, clock: ManualClock, gateway: FakeGateway
) -> AsyncIterator[Context]:
    context = await build_context(settings, clock=clock, gateways=gateway.gateways())
    yield context
    await close_context(context)


@pytest.fixture
async def client(ctx: Context) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(context=ctx, run_sweeper_in_process=False)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://slotbook.test") as c:
        yield c
