"""Retrying a write transaction that the database chose as a deadlock victim."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from slotbook.adapters.db.engine import Database

T = TypeVar("T")
_RETRYABLE = frozenset({"40P01", "40001"})  # deadlock_detected, serialization_failure


def is_retryable(exc: BaseException) -> bool:
    """True when PostgreSQL rolled the transaction back only to break a deadlock (or a
    serialisation conflict): running it again is safe and will likely succeed."""
    return isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) in _RETRYABLE


async def write_retrying(
    db: Database, work: Callable[[AsyncConnection], Awaitable[T]], *, attempts: int = 3
) -> T:
    """Run `work` in one write transaction; run it again, whole, after a deadlock.

    The lock order of the writer is what prevents deadlocks; this is the belt and braces
    for an order someone gets wrong later.
    """
    for attempt in range(1, attempts + 1):
        try:
            async with db.write() as conn:
                return await work(conn)
        except DBAPIError as exc:
            if attempt == attempts or not is_retryable(exc):
                raise
    raise AssertionError("unreachable")
