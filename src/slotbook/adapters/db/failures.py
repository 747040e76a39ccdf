"""Database faults, translated at the edge into the two 503s the service answers.

- **DatabaseUnavailable** means the database cannot be reached: a connection refused,
  dropped or timed out, a server shutting down. Nothing else.
- **Overloaded** means it can be reached but not in time: no pooled connection came free
  within the pool timeout, a statement ran into the server's `statement_timeout`, SQLite
  stayed busy, or the server has no connection slot left.
- Anything else (a programming error, a constraint, bad data) is not an outage and passes
  through as it is: a bug answers 500, not 503.

An error is judged by its whole chain (SQLAlchemy's `orig`, `__cause__`, `__context__`):
what is raised while handling a programming error is still a programming error, and what
is raised while handling an overload is still an overload.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import asyncpg
from sqlalchemy import exc as sa_exc

from slotbook.domain.errors import DatabaseUnavailable, Overloaded, SlotbookError, Unavailable

_UNREACHABLE: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,  # connect timeout, or no answer within statement timeout + grace
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
)
_OVERLOADED: tuple[type[BaseException], ...] = (
    sa_exc.TimeoutError,  # SQLAlchemy's pool: no connection came free in time
    asyncpg.QueryCanceledError,  # statement_timeout
    asyncpg.TooManyConnectionsError,
)
_SQLITE_UNREACHABLE = ("unable to open", "disk i/o error", "readonly database")
_SQLITE_BUSY = ("database is locked", "database table is locked", "database is busy")


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for nxt in (getattr(current, "orig", None), current.__cause__, current.__context__):
            if isinstance(nxt, BaseException):
                pending.append(nxt)


def _kind(exc: BaseException) -> str | None:
    """'unreachable', 'overloaded', 'other' (a database error that is no outage), or None."""
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return "unreachable"
    if isinstance(exc, _OVERLOADED):
        return "overloaded"
    if isinstance(exc, _UNREACHABLE):
        return "unreachable"
    if isinstance(exc, asyncpg.InternalClientError) and not isinstance(
        exc, asyncpg.exceptions.OutdatedSchemaCacheError
    ):
        # "cannot switch to state ...": the connection broke in the middle of an operation
        # and its protocol is out of step; it must be replaced, like a closed one
        return "unreachable"
    if isinstance(exc, asyncpg.InterfaceError):
        # asyncpg says "connection is closed" with its generic class; any other interface
        # error (a wrong argument count, say) is a bug in the caller
        return "unreachable" if "connection" in str(exc) and "closed" in str(exc) else "other"
    if isinstance(exc, sqlite3.OperationalError):
        message = str(exc).lower()
        if any(m in message for m in _SQLITE_BUSY):
            return "overloaded"
        return "unreachable" if any(m in message for m in _SQLITE_UNREACHABLE) else "other"
    if isinstance(exc, asyncpg.PostgresError | sqlite3.Error):
        return "other"
    return None


def classify(exc: BaseException) -> type[Unavailable] | None:
    """The 503 an error means, or None when it is not an outage of the database."""
    kinds = {_kind(link) for link in _chain(exc)}
    if "other" in kinds:
        return None
    if "overloaded" in kinds:
        return Overloaded
    if "unreachable" in kinds:
        return DatabaseUnavailable
    return None


def translated(exc: BaseException) -> BaseException:
    """The error to raise in place of `exc`: a 503 of ours, or `exc` itself."""
    kind = classify(exc)
    if kind is DatabaseUnavailable:
        return DatabaseUnavailable("the database cannot be reached")
    if kind is Overloaded:
        return Overloaded("the database is too busy to answer in time; retry shortly")
    return exc


@asynccontextmanager
async def translate_unavailable() -> AsyncIterator[None]:
    """Turn database outages and overloads into our 503s; pass everything else through."""
    try:
        yield
    except SlotbookError:
        raise
    except Exception as exc:
        replacement = translated(exc)
        if replacement is exc:
            raise
        raise replacement from exc
