"""The sandbox gateway's SQLite file: WAL, one writer at a time across processes.

Several `slotbook serve` workers may share the file. Every write transaction starts with
`BEGIN IMMEDIATE` (the file's write lock first, then the reads), and every state change is
a conditional write (`... WHERE status = 'pending'`), so no two processes settle, refund
or claim the same row. Writers of one process queue on a lock of their own first: SQLite's
busy handler would otherwise have them sleep and retry (up to 100 ms a time) whenever
a burst of writes, such as many payments settled at once, meets the file's lock.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from slotbook.sandbox.tables import metadata

_BEGIN = "sandbox_begin"
BUSY_TIMEOUT_MS = 10_000
WAL_ATTEMPTS = 100  # 20 ms apart: 2 s for another process to create the file


def journal_in_wal(cursor: Any, *, pause: Callable[[], None] = lambda: time.sleep(0.02)) -> None:
    """Put the file in WAL mode. While another process creates a new file (workers
    starting together), SQLite refuses the switch at once, busy timeout or not ("database
    is locked"): it is tried again, `WAL_ATTEMPTS` times at most."""
    for attempt in range(1, WAL_ATTEMPTS + 1):
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == WAL_ATTEMPTS:
                raise
        pause()


def _async_url(url: str) -> str:
    return make_url(url).set(drivername="sqlite+aiosqlite").render_as_string()


class SandboxDb:
    def __init__(self, url: str) -> None:
        self.engine = create_async_engine(
            _async_url(url), connect_args={"timeout": BUSY_TIMEOUT_MS / 1000}, pool_size=5
        )
        self._write_lock: asyncio.Lock | None = None  # made in the loop that uses it

        @event.listens_for(self.engine.sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
            dbapi_connection.isolation_level = None  # BEGIN is ours, below
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            journal_in_wal(cursor)
            for pragma in ("synchronous=NORMAL", "foreign_keys=ON"):
                cursor.execute(f"PRAGMA {pragma}")
            cursor.close()

        @event.listens_for(self.engine.sync_engine, "begin")
        def _on_begin(conn: Any) -> None:
            conn.exec_driver_sql(f"BEGIN {conn.get_execution_options().get(_BEGIN, 'IMMEDIATE')}")

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """One write transaction, holding the file's write lock from its first statement."""
        if self._write_lock is None:
            self._write_lock = asyncio.Lock()
        async with self._write_lock, self.engine.begin() as conn:
            yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read transaction: one consistent view, never blocking a writer."""
        async with self.engine.connect() as conn:
            conn = await conn.execution_options(**{_BEGIN: "DEFERRED"})
            async with conn.begin():
                yield conn

    async def create_tables(self) -> None:
        """Create what is missing; safe when several processes start at once."""
        async with self.write() as conn:
            await conn.run_sync(metadata.create_all)

    async def dispose(self) -> None:
        await self.engine.dispose()
