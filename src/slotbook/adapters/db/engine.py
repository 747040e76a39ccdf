"""Engines for SQLite (embedded default, WAL) and PostgreSQL (production), one API for both."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, TypeAlias

from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from slotbook.adapters.db import connections
from slotbook.adapters.db.failures import translate_unavailable
from slotbook.config import Settings

# what a use case holds inside a transaction (`Database.write()` / `read()`) and hands to
# the repositories: the service layer names it without knowing the driver beneath
Connection: TypeAlias = AsyncConnection

_SQLITE_BEGIN = "sqlite_begin"
# reads the schema too, so a database file that cannot be opened does not pass for ready
_DATABASE_NOW_SQLITE = (
    "SELECT strftime('%Y-%m-%d %H:%M:%f', 'now') FROM (SELECT count(*) FROM sqlite_master)"
)


def async_url(url: str) -> str:
    """The SQLAlchemy async URL for a settings URL: the service picks its own driver."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False)
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    raise ValueError(f"unsupported database URL scheme: {parsed.drivername}")


def libpq_dsn(url: str) -> str:
    """The plain `postgresql://` DSN of a settings URL, for asyncpg itself."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def create_engine(
    settings: Settings, *, pool_size: int | None = None, for_migrations: bool = False
) -> AsyncEngine:
    """An async engine tuned for the configured database (see `connections` for the
    timeouts); migrations run without a statement timeout."""
    url = async_url(settings.database_url)
    if settings.is_sqlite:
        engine = create_async_engine(
            url,
            connect_args={"timeout": 5.0},
            pool_size=pool_size or settings.db_pool_size,
            max_overflow=0,
            pool_timeout=settings.db_pool_timeout_seconds,
        )
        _configure_sqlite(engine)
        return engine
    session = connections.server_settings(settings)
    if for_migrations:
        session.pop("statement_timeout")
    engine = create_async_engine(
        url,
        pool_size=pool_size or settings.db_pool_size,
        max_overflow=0,
        pool_timeout=settings.db_pool_timeout_seconds,
        connect_args={
            "timeout": settings.db_connect_timeout_seconds,
            "command_timeout": None if for_migrations else connections.command_timeout(settings),
            "server_settings": session,
        },
    )
    _configure_postgres(engine, connections.Keepalive.of(settings))
    return engine


def _configure_postgres(engine: AsyncEngine, keepalive: connections.Keepalive) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        connections.apply_keepalive(dbapi_connection.driver_connection, keepalive)

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, _record: ConnectionPoolEntry, _proxy: Any) -> None:
        # a connection the server closed (restart, pg_terminate_backend) is replaced here,
        # at no cost, instead of failing the request that drew it
        if dbapi_connection.driver_connection.is_closed():
            raise sa_exc.DisconnectionError("the pooled connection was closed by the server")


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "foreign_keys=ON",
            "busy_timeout=5000",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get(_SQLITE_BEGIN, "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")


class Database:
    """The engine plus the two ways in: a write transaction and a read.

    Health checks go through an engine of their own (`health`, one connection), so a busy
    request pool never makes the service look down. On PostgreSQL, `raw` is the asyncpg
    pool of the hot paths (the hold store's statements, a success webhook's transaction),
    which pay no session's cost per statement.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        health: AsyncEngine | None = None,
        raw: connections.BoundedPool | None = None,
    ) -> None:
        self.engine = engine
        self.health = health or engine
        self.raw = raw
        self.is_sqlite = engine.dialect.name == "sqlite"
        self._write_lock: asyncio.Lock | None = None

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """One write transaction: committed on a clean exit, rolled back on any error.

        SQLite takes one writer at a time: writers of this process queue on a lock rather
        than spinning on the database's busy handler.
        """
        if not self.is_sqlite:
            async with translate_unavailable(), self.engine.begin() as conn:
                yield conn
            return
        if self._write_lock is None:
            self._write_lock = asyncio.Lock()
        async with self._write_lock, translate_unavailable(), self.engine.begin() as conn:
            yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read-only transaction (deferred on SQLite, so it never blocks writers)."""
        async with translate_unavailable(), self.engine.connect() as conn:
            if self.is_sqlite:
                conn = await conn.execution_options(**{_SQLITE_BEGIN: "DEFERRED"})
            async with conn.begin():
                yield conn

    async def database_now(self) -> datetime:
        """The database's own clock (DatabaseUnavailable unless it answers now)."""
        sql = _DATABASE_NOW_SQLITE if self.is_sqlite else "SELECT now()"
        async with translate_unavailable(), self.health.connect() as conn:
            value = (await conn.exec_driver_sql(sql)).scalar_one()
        if isinstance(value, str):
            value = datetime.fromisoformat(value).replace(tzinfo=UTC)
        assert isinstance(value, datetime)
        return value

    async def dispose(self) -> None:
        if self.raw is not None:
            await self.raw.close()
        await self.engine.dispose()
        if self.health is not self.engine:
            await self.health.dispose()
