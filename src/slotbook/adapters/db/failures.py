"""Database faults that mean "unreachable", translated at the edge into DatabaseUnavailable."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from sqlalchemy import exc as sa_exc

from slotbook.domain.errors import DatabaseUnavailable

_UNREACHABLE: tuple[type[BaseException], ...] = (
    OSError,
    asyncio.TimeoutError,
    sa_exc.TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,
    sqlite3.OperationalError,
)


def is_unreachable(exc: BaseException) -> bool:
    """True when the error says the database cannot be reached or used right now."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, _UNREACHABLE):
            return True
        if isinstance(current, sa_exc.DBAPIError) and current.orig is not None:
            current = current.orig
            continue
        current = current.__cause__ or current.__context__
    return False


@asynccontextmanager
async def translate_unavailable() -> AsyncIterator[None]:
    """Turn unreachable-database errors into DatabaseUnavailable; pass the rest through."""
    try:
        yield
    except DatabaseUnavailable:
        raise
    except Exception as exc:
        if is_unreachable(exc):
            raise DatabaseUnavailable("the database cannot be reached") from exc
        raise
