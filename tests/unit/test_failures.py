"""What counts as an outage: only connection failures; overloads and bugs are told apart."""

from __future__ import annotations

import sqlite3

import asyncpg
import pytest
from sqlalchemy import exc as sa_exc

from slotbook.adapters.db.failures import classify
from slotbook.domain.errors import DatabaseUnavailable, Overloaded


def raised_while_handling(first: BaseException, second: BaseException) -> BaseException:
    """`second` as Python chains it when raised in an `except` block for `first`."""
    try:
        try:
            raise first
        except BaseException:
            raise second  # noqa: B904 (chained implicitly, as `__context__`)
    except BaseException as chained:
        return chained


def wrapped(orig: BaseException, *, invalidated: bool = False) -> sa_exc.DBAPIError:
    """An error as SQLAlchemy hands it on, with the driver's error as `orig`."""
    return sa_exc.DBAPIError("SELECT 1", None, orig, connection_invalidated=invalidated)


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(111, "Connect call failed"),
        TimeoutError(),
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.CannotConnectNowError("the database system is starting up"),
        asyncpg.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.InterfaceError("connection is closed"),
        wrapped(asyncpg.InterfaceError("connection is closed"), invalidated=True),
        wrapped(sqlite3.OperationalError("unable to open database file")),
    ],
    ids=repr,
)
def test_connection_failures_are_unavailable(error: BaseException) -> None:
    assert classify(error) is DatabaseUnavailable


@pytest.mark.parametrize(
    "error",
    [
        sa_exc.TimeoutError("QueuePool limit of size 10 overflow 0 reached"),
        asyncpg.QueryCanceledError("canceling statement due to statement timeout"),
        asyncpg.TooManyConnectionsError("sorry, too many clients already"),
        wrapped(sqlite3.OperationalError("database is locked")),
    ],
    ids=repr,
)
def test_full_pools_and_timeouts_are_overloads(error: BaseException) -> None:
    assert classify(error) is Overloaded


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.InterfaceError("the server expects 2 arguments for this query, 1 was passed"),
        asyncpg.UndefinedColumnError('column "nope" does not exist'),
        asyncpg.UniqueViolationError("duplicate key value violates unique constraint"),
        wrapped(sqlite3.OperationalError("no such column: nope")),
        wrapped(sqlite3.IntegrityError("UNIQUE constraint failed: users.email")),
        ValueError("not a database error at all"),
    ],
    ids=repr,
)
def test_programming_errors_and_constraints_are_not_outages(error: BaseException) -> None:
    assert classify(error) is None


def test_what_is_raised_while_handling_a_programming_error_is_not_an_outage() -> None:
    error = raised_while_handling(
        asyncpg.UndefinedColumnError('column "nope" does not exist'),
        ConnectionResetError(104, "Connection reset by peer"),
    )
    assert classify(error) is None


def test_a_connection_lost_while_handling_a_statement_timeout_is_still_an_overload() -> None:
    error = raised_while_handling(
        asyncpg.QueryCanceledError("canceling statement due to statement timeout"),
        asyncpg.InterfaceError("connection is closed"),
    )
    assert classify(error) is Overloaded
