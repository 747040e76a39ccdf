"""Real databases for tests: a migrated SQLite file, a throwaway PostgreSQL database.

PostgreSQL is found at SLOTBOOK_TEST_PG_URL (default: the local server, trust auth). When
it is missing, its tests skip and say so, except under CI=true, where they fail.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import asyncpg
import pytest

from slotbook.adapters.db.migrations.runner import upgrade

PG_ADMIN_URL = os.environ.get(
    "SLOTBOOK_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").lower() == "true"
TABLES = (
    "availability_slots",
    "provider_availability",
    "saved_bookings",
    "webhook_events",
    "outbox",
    "ledger_entries",
    "ledger_transactions",
    "refunds",
    "idempotency_keys",
    "bookings",
    "payments",
    "holds",
    "slots",
    "services",
    "providers",
    "users",
)


def _base(url: str) -> str:
    return url.rsplit("/", 1)[0]


async def pg_reachable() -> bool:
    try:
        conn = await asyncpg.connect(PG_ADMIN_URL, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await conn.close()
    return True


def require_postgres(reachable: bool) -> None:
    if reachable:
        return
    message = f"PostgreSQL not reachable at {PG_ADMIN_URL}"
    if IN_CI:
        pytest.fail(f"{message}: PostgreSQL tests must run under CI=true")
    pytest.skip(f"{message}; PostgreSQL tests skipped")


def new_pg_url() -> str:
    """The URL of a PostgreSQL database that does not exist yet."""
    return f"{_base(PG_ADMIN_URL)}/slotbook_test_{uuid.uuid4().hex[:12]}"


async def create_pg_database(url: str | None = None) -> str:
    """A new, empty PostgreSQL database (at `url`, or a fresh name); its URL."""
    url = url or new_pg_url()
    name = url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return url


async def drop_pg_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def truncate_pg(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f"TRUNCATE {', '.join(TABLES)} CASCADE")
    finally:
        await conn.close()


def migrated_sqlite_template(directory: Path) -> Path:
    template = directory / "template.db"
    upgrade(f"sqlite:///{template}")
    return template


def fresh_sqlite(template: Path, directory: Path) -> str:
    target = directory / f"{uuid.uuid4().hex[:8]}.db"
    shutil.copy(template, target)
    return f"sqlite:///{target}"


__all__ = [
    "IN_CI",
    "create_pg_database",
    "drop_pg_database",
    "fresh_sqlite",
    "migrated_sqlite_template",
    "new_pg_url",
    "pg_reachable",
    "require_postgres",
    "truncate_pg",
    "upgrade",
]
