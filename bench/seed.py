"""Benchmark databases: create, migrate, seed with a realistic catalog, mint tokens, drop.

The catalog is generated inside PostgreSQL (INSERT ... SELECT over generate_series) or
loaded with COPY, so 100,000 slots and 200,000 historical holds take seconds.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg

from slotbook.adapters.db.migrations.runner import upgrade
from slotbook.adapters.security import Passwords, Tokens
from slotbook.domain.model import Principal, Role

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
CATEGORIES = ("hair", "massage", "physio", "tutoring", "fitness")


def dsn(database: str) -> str:
    return f"postgresql://postgres@127.0.0.1:5432/{database}"


@dataclass(frozen=True)
class Catalog:
    """What the load generators need: customers' tokens and the seeded slot ids."""

    tokens: list[str]  # one access token per customer, in customer order
    customer_ids: list[str]  # in the same order
    slot_ids: list[str]  # every slot still available, shuffled


async def recreate(database: str) -> None:
    conn = await asyncpg.connect(ADMIN_DSN, timeout=10)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{database}"')
    finally:
        await conn.close()


async def drop(database: str) -> None:
    conn = await asyncpg.connect(ADMIN_DSN, timeout=10)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await conn.close()


async def server_version() -> str:
    conn = await asyncpg.connect(ADMIN_DSN, timeout=10)
    try:
        return str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()


SLOTS_SQL = """
INSERT INTO slots (id, provider_id, service_id, category, starts_at, ends_at,
                   price_minor, currency, status, created_at)
SELECT gen_random_uuid(), s.provider_id, s.id, s.category,
       $1::timestamptz + g * interval '1 hour', $1::timestamptz + (g + 1) * interval '1 hour',
       s.price_minor, s.currency, 'available', now()
  FROM services s CROSS JOIN generate_series(0, $2::int - 1) AS g
"""

HISTORY_SQL = """
WITH numbered AS (
    SELECT row_number() OVER (ORDER BY id) AS rn, id, provider_id, price_minor, currency
      FROM slots
), customers AS (
    SELECT array_agg(id) AS ids FROM users WHERE role = 'customer'
), series AS (
    SELECT g, now() - random() * interval '90 days' AS t FROM generate_series(1, $1::int) g
)
INSERT INTO holds (id, slot_id, provider_id, customer_id, status, release_reason,
                   created_at, expires_at, released_at, amount_minor, currency)
SELECT gen_random_uuid(), n.id, n.provider_id,
       c.ids[1 + floor(random() * array_length(c.ids, 1))::int],
       'released', (ARRAY['expired', 'superseded', 'cancelled'])[1 + g % 3],
       t, t + interval '10 minutes', t + interval '10 minutes', n.price_minor, n.currency
  FROM series
  JOIN numbered n ON n.rn = 1 + (series.g % (SELECT count(*) FROM numbered))
 CROSS JOIN customers c
"""


ACTIVE_SQL = """
WITH picked AS (
    SELECT p.*, row_number() OVER () AS rn
      FROM (SELECT id, provider_id, price_minor, currency FROM slots
             ORDER BY random() LIMIT cardinality($1::uuid[])) AS p
), customers AS (
    SELECT c, ord FROM unnest($1::uuid[]) WITH ORDINALITY AS u(c, ord)
), fresh AS (
    SELECT gen_random_uuid() AS hold_id, picked.*, customers.c AS customer_id
      FROM picked JOIN customers ON customers.ord = picked.rn
), inserted AS (
    INSERT INTO holds (id, slot_id, provider_id, customer_id, status, created_at, expires_at,
                       amount_minor, currency, active_slot_id, active_customer_id)
    SELECT hold_id, id, provider_id, customer_id, 'active', now(),
           now() + interval '10 minutes', price_minor, currency, id, customer_id
      FROM fresh
)
UPDATE slots SET status = 'held', hold_id = fresh.hold_id,
                 held_until = now() + interval '10 minutes'
  FROM fresh WHERE slots.id = fresh.id
"""


async def _users(conn: asyncpg.Connection, role: str, count: int, pw_hash: str) -> list[uuid.UUID]:
    now = datetime.now(UTC)
    ids = [uuid.uuid4() for _ in range(count)]
    rows = [
        (uid, f"{role}{i}@bench.example", f"Bench {role} {i}", role, pw_hash, now)
        for i, uid in enumerate(ids)
    ]
    await conn.copy_records_to_table(
        "users",
        records=rows,
        columns=["id", "email", "name", "role", "password_hash", "created_at"],
    )
    return ids


async def _catalog(conn: asyncpg.Connection, provider_users: list[uuid.UUID]) -> None:
    now = datetime.now(UTC)
    providers = [
        (uuid.uuid4(), uid, f"Provider {i}", "Europe/Berlin", "Benchmark provider", now)
        for i, uid in enumerate(provider_users)
    ]
    await conn.copy_records_to_table(
        "providers",
        records=providers,
        columns=["id", "user_id", "display_name", "timezone", "bio", "created_at"],
    )
    services = [
        (
            uuid.uuid4(),
            p[0],
            f"Service {i}",
            CATEGORIES[i % 5],
            60,
            2000 + 500 * (i % 20),
            "EUR",
            now,
        )
        for i, p in enumerate(providers)
    ]
    await conn.copy_records_to_table(
        "services",
        records=services,
        columns=[
            "id",
            "provider_id",
            "name",
            "category",
            "duration_minutes",
            "price_minor",
            "currency",
            "created_at",
        ],
    )


PASSWORD = "bench-password"


async def seed(
    database: str,
    *,
    providers: int,
    slots: int,
    customers: int,
    history: int,
    active: int,
    jwt_secret: str,
) -> Catalog:
    """A migrated, seeded and analysed slotbook database; tokens for every customer.

    The first `active` customers each start with a live hold, as on a busy day, so the
    statistics PostgreSQL plans with include held slots.
    """
    await recreate(database)
    await asyncio.to_thread(upgrade, dsn(database))  # alembic runs its own event loop
    passwords = Passwords(time_cost=3, memory_kib=65536, concurrency=1, wait_seconds=60)
    pw_hash = await passwords.hash(PASSWORD)
    passwords.close()
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    conn = await asyncpg.connect(dsn(database), timeout=10)
    try:
        async with conn.transaction():
            provider_users = await _users(conn, "provider", providers, pw_hash)
            customer_ids = await _users(conn, "customer", customers, pw_hash)
            await _catalog(conn, provider_users)
            await conn.execute(SLOTS_SQL, tomorrow, slots // providers)
            await conn.execute(HISTORY_SQL, history)
            await conn.execute(ACTIVE_SQL, customer_ids[:active])
        await conn.execute("VACUUM ANALYZE")
        rows = await conn.fetch("SELECT id FROM slots WHERE status = 'available' ORDER BY random()")
    finally:
        await conn.close()
    tokens = Tokens(secret=jwt_secret, ttl_seconds=86_400)
    now = datetime.now(UTC)
    minted = [tokens.issue(Principal(uid, Role.CUSTOMER), now=now) for uid in customer_ids]
    return Catalog(
        tokens=minted,
        customer_ids=[str(c) for c in customer_ids],
        slot_ids=[str(r[0]) for r in rows],
    )


async def reset_reference(database: str, *, all_held: bool = False) -> None:
    """Put the reference server's slots back on sale, or mark every one of them held."""
    conn = await asyncpg.connect(dsn(database), timeout=10)
    try:
        if all_held:
            await conn.execute(
                "UPDATE ref_slots SET state = 'held', held_until = now() + interval '1 hour', "
                "hold_id = 0"
            )
        else:
            await conn.execute(
                "UPDATE ref_slots SET state = 'open', held_until = NULL, hold_id = NULL "
                "WHERE state <> 'open'"
            )
    finally:
        await conn.close()


async def autoanalyze_counts(database: str) -> dict[str, int]:
    """How often autovacuum has re-analysed each table of the hot path (plans follow)."""
    conn = await asyncpg.connect(dsn(database), timeout=10)
    try:
        rows = await conn.fetch(
            "SELECT relname, autoanalyze_count FROM pg_stat_user_tables "
            "WHERE relname IN ('slots', 'holds')"
        )
    finally:
        await conn.close()
    return {r[0]: int(r[1]) for r in rows}


async def deadlocks(database: str) -> int:
    """Deadlocks PostgreSQL has detected in the database so far."""
    conn = await asyncpg.connect(ADMIN_DSN, timeout=10)
    try:
        found = await conn.fetchval(
            "SELECT deadlocks FROM pg_stat_database WHERE datname = $1", database
        )
    finally:
        await conn.close()
    return int(found or 0)


async def vacuum(database: str) -> None:
    """VACUUM ANALYZE, as autovacuum would between two runs (it is off on some machines)."""
    conn = await asyncpg.connect(dsn(database), timeout=10)
    try:
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()
