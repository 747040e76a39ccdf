"""The migrations and `tables.py` describe one schema, both ways, on both databases.

Migrations are frozen once on main: 0001 must never change (a new migration instead).
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, insert, inspect, select
from sqlalchemy.ext.asyncio import AsyncConnection

from slotbook.adapters.db import tables
from slotbook.adapters.db.engine import create_engine
from slotbook.adapters.db.migrations import runner
from slotbook.adapters.db.migrations.compare import schema_differences
from slotbook.adapters.db.tables import metadata
from slotbook.config import load_settings
from tests import databases as dbs

VERSIONS = Path(runner.__file__).parent / "versions"
FROZEN = {
    "0001_accounts_catalog_holds.py": (
        "3ea6e1c83ee8c207f15626cf78142483fcf8f608e12631dc170985d6819c19a8"
    ),
}
# Created by the migrations only (tables.py cannot describe it portably): the index behind
# the slots' exclusion constraint on PostgreSQL.
MIGRATION_ONLY_INDEXES = {"slots_no_overlap"}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def blank_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of its own with nothing in it, not even the schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'blank.db'}"
        return
    reachable = request.getfixturevalue("pg_template_url") is not None
    dbs.require_postgres(reachable)
    url = asyncio.run(dbs.create_pg_database())
    yield url
    asyncio.run(dbs.drop_pg_database(url))


@pytest.fixture
def twin_url(blank_url: str, tmp_path: Path) -> Iterator[str]:
    """A second blank database of the same kind, built from `tables.py` (create_all)."""
    if blank_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'twin.db'}"
        asyncio.run(_on(url, metadata.create_all))
        yield url
        return
    url = asyncio.run(dbs.create_pg_database())
    asyncio.run(_on(url, metadata.create_all))
    yield url
    asyncio.run(dbs.drop_pg_database(url))


async def _on(url: str, work: Any) -> Any:
    engine = create_engine(load_settings(database_url=url))
    try:
        async with engine.begin() as conn:
            return await conn.run_sync(work)
    finally:
        await engine.dispose()


def _schema(conn: Connection) -> dict[str, Any]:
    """Everything reflection sees of the application's tables, in a comparable form."""
    insp = inspect(conn)
    schema: dict[str, Any] = {}
    for table in sorted(set(insp.get_table_names()) - {"alembic_version"}):
        indexes = [i for i in insp.get_indexes(table) if i["name"] not in MIGRATION_ONLY_INDEXES]
        schema[table] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"], c.get("default"))
                for c in insp.get_columns(table)
            ],
            "primary_key": insp.get_pk_constraint(table)["constrained_columns"],
            "foreign_keys": sorted(
                (fk["constrained_columns"], fk["referred_table"], fk["referred_columns"])
                for fk in insp.get_foreign_keys(table)
            ),
            "indexes": sorted(
                (i["name"] or "", i["column_names"], bool(i["unique"]), _predicate(i))
                for i in indexes
            ),
            "unique": sorted(u["column_names"] for u in insp.get_unique_constraints(table)),
            "checks": sorted(
                (c["name"] or "", c["sqltext"]) for c in insp.get_check_constraints(table)
            ),
        }
    return schema


def _predicate(index: Any) -> str:
    options = index.get("dialect_options", {})
    where = options.get("postgresql_where", options.get("sqlite_where"))
    return "" if where is None else str(where)


def schema_of(url: str) -> dict[str, Any]:
    result: dict[str, Any] = asyncio.run(_on(url, _schema))
    return result


def differences(url: str) -> list[Any]:
    result: list[Any] = asyncio.run(_on(url, schema_differences))
    return result


def test_tables_py_matches_the_migrated_schema(blank_url: str) -> None:
    runner.upgrade(blank_url)
    assert differences(blank_url) == []


def test_checks_and_partial_indexes_match_tables_py(blank_url: str, twin_url: str) -> None:
    """What compare_metadata leaves out, compared by reflection with a create_all twin."""
    runner.upgrade(blank_url)
    assert schema_of(blank_url) == schema_of(twin_url)


def test_downgrade_to_base_then_upgrade_to_head_rebuilds_the_same_schema(blank_url: str) -> None:
    runner.upgrade(blank_url)
    migrated = schema_of(blank_url)
    runner.downgrade(blank_url, "base")
    assert schema_of(blank_url) == {}
    runner.upgrade(blank_url)
    assert schema_of(blank_url) == migrated
    assert differences(blank_url) == []


@pytest.mark.parametrize("name", sorted(FROZEN))
def test_frozen_migrations_are_unchanged(name: str) -> None:
    digest = hashlib.sha256((VERSIONS / name).read_bytes()).hexdigest()
    assert digest == FROZEN[name], (
        f"{name} is frozen: databases have already run it. Revert the edit and add a new "
        "migration instead (see adapters/db/migrations/README.md)."
    )


def test_0002_gives_existing_keys_an_ended_lease_and_a_day_to_live(blank_url: str) -> None:
    runner.upgrade(blank_url, "0001")
    claimed = datetime(2030, 1, 1, 8, 0, 0, 123456, tzinfo=UTC)
    user_id = uuid.uuid4()
    key = {"user_id": user_id, "endpoint": "POST /v1/holds", "key": "k"}

    async def insert_legacy_key(conn: AsyncConnection) -> None:
        await conn.execute(
            insert(tables.users).values(
                id=user_id,
                email="a@example.com",
                name="A",
                role="customer",
                password_hash="x",
                created_at=claimed,
            )
        )
        legacy = {**key, "request_hash": "h", "created_at": claimed}
        await conn.execute(insert(tables.idempotency_keys).values(legacy))

    asyncio.run(_write(blank_url, insert_legacy_key))
    runner.upgrade(blank_url)

    async def read_key(conn: AsyncConnection) -> Any:
        keys = tables.idempotency_keys
        query = select(keys.c.attempt, keys.c.lease_until, keys.c.expires_at, keys.c.resource_id)
        return (await conn.execute(query)).one()

    row = asyncio.run(_write(blank_url, read_key))
    assert row.attempt == 1
    assert row.lease_until == claimed  # an unfinished legacy claim can be retaken at once
    assert row.expires_at == claimed + timedelta(days=1)
    assert row.resource_id is None
    runner.downgrade(blank_url, "0001")
    runner.upgrade(blank_url)
    assert asyncio.run(_write(blank_url, read_key)).expires_at == claimed + timedelta(days=1)


async def _write(url: str, work: Callable[[AsyncConnection], Awaitable[Any]]) -> Any:
    engine = create_engine(load_settings(database_url=url))
    try:
        async with engine.begin() as conn:
            return await work(conn)
    finally:
        await engine.dispose()
