"""The composition root: builds the service's context from settings.

Production and tests go through the same function; tests hand in their own clock (and,
to inject a fault, their own hold store) instead of patching anything.
"""

from __future__ import annotations

from slotbook.adapters.clock import SystemClock
from slotbook.adapters.db.engine import Database, create_engine, libpq_dsn
from slotbook.adapters.db.hold_lock import SqlHoldStore
from slotbook.adapters.db.pg_hold_lock import PgHoldStore, create_hold_pool
from slotbook.adapters.security import Passwords, Tokens
from slotbook.config import Settings
from slotbook.domain.clock import Clock
from slotbook.domain.ports import HoldStore
from slotbook.service_layer.context import Context
from slotbook.service_layer.recent_alternatives import RecentAlternatives


async def build_context(
    settings: Settings, *, clock: Clock | None = None, hold_store: HoldStore | None = None
) -> Context:
    """Everything a use case needs, wired for the configured database."""
    db = Database(create_engine(settings))
    if hold_store is None:
        hold_store = await _default_hold_store(settings, db)
    return Context(
        settings=settings,
        clock=clock or SystemClock(),
        db=db,
        hold_store=hold_store,
        passwords=Passwords(
            time_cost=settings.argon2_time_cost, memory_kib=settings.argon2_memory_kib
        ),
        tokens=Tokens(secret=settings.jwt_secret, ttl_seconds=settings.access_token_ttl_seconds),
        recent_alternatives=RecentAlternatives(ttl_seconds=settings.suggestion_cache_seconds),
    )


async def _default_hold_store(settings: Settings, db: Database) -> HoldStore:
    if db.is_sqlite:
        return SqlHoldStore(db)
    pool = await create_hold_pool(
        libpq_dsn(settings.database_url),
        size=settings.db_pool_size,
        connect_timeout=settings.db_connect_timeout_seconds,
        command_timeout=settings.db_statement_timeout_seconds,
    )
    return PgHoldStore(pool, acquire_timeout=settings.db_connect_timeout_seconds)


async def close_context(ctx: Context) -> None:
    """Release the context's connections."""
    close = getattr(ctx.hold_store, "close", None)
    if close is not None:
        await close()
    await ctx.db.dispose()
