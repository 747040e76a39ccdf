"""How the service talks to PostgreSQL: timeouts, TCP keepalives, and a bounded pool wait.

Three different waits, three settings, three answers:
- connecting (`db_connect_timeout_seconds`): past it the database is unreachable (503
  `database-unavailable`);
- waiting for a pooled connection (`db_pool_timeout_seconds`): past it the service is
  overloaded (503 `overloaded`), the database may be perfectly fine;
- a statement (`db_statement_timeout_seconds`, the server's `statement_timeout`): past it
  the server cancels the statement (503 `overloaded`); the client gives up a little later
  (`command_timeout`), when the server has not even said so: then it is unreachable.

A connection whose peer vanished without a word (a failover behind a network partition)
is dropped within seconds by TCP keepalives and `TCP_USER_TIMEOUT`, instead of when the
operating system gives up minutes later.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any

import asyncpg

from slotbook.adapters.db.failures import classify, translate_unavailable
from slotbook.config import Settings
from slotbook.domain.errors import DatabaseUnavailable, Overloaded

_CLIENT_GRACE_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class Keepalive:
    idle_seconds: int
    interval_seconds: int
    count: int

    @classmethod
    def of(cls, settings: Settings) -> Keepalive:
        return cls(
            idle_seconds=settings.db_tcp_keepalive_idle_seconds,
            interval_seconds=settings.db_tcp_keepalive_interval_seconds,
            count=settings.db_tcp_keepalive_count,
        )

    @property
    def user_timeout_ms(self) -> int:
        """Unacknowledged data is given up on as soon as an idle peer would be."""
        return 1000 * (self.idle_seconds + self.interval_seconds * self.count)


def apply_keepalive(connection: Any, keepalive: Keepalive) -> None:
    """Set TCP keepalives on an asyncpg connection's socket (Unix sockets need none).

    asyncpg has no option for it, so the socket is reached through its transport.
    """
    transport = getattr(connection, "_transport", None)
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, keepalive.idle_seconds)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, keepalive.interval_seconds)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, keepalive.count)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, keepalive.user_timeout_ms)


def server_settings(settings: Settings) -> dict[str, str]:
    """Session settings of every connection: the statement timeout is the server's."""
    return {
        "jit": "off",
        "statement_timeout": str(int(settings.db_statement_timeout_seconds * 1000)),
    }


def command_timeout(settings: Settings) -> float:
    """How long the client waits for any answer: the server's timeout, and a grace."""
    return settings.db_statement_timeout_seconds + _CLIENT_GRACE_SECONDS


async def _keep_session(_conn: Any) -> None:
    """The hold path changes no session state, so a returned connection needs no reset."""


class BoundedPool:
    """An asyncpg pool whose wait for a free connection is bounded on its own.

    A semaphore of the pool's size is the queue: waiting on it past the pool timeout is an
    overload. Once through it a connection is free or can be opened, so only connecting
    can take long, bounded by the connect timeout the pool hands `asyncpg.connect`: running
    out of it means unreachable. (A timeout on the pool's own acquire would run every
    acquire through a task of `asyncio.wait_for`.)
    """

    def __init__(self, pool: Any, *, size: int, wait_seconds: float):
        self.pool = pool
        self._free = asyncio.Semaphore(size)
        self._wait = wait_seconds

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[Any]:
        """A connection for one statement or transaction; errors translated (503s)."""
        try:
            async with asyncio.timeout(self._wait):
                await self._free.acquire()
        except TimeoutError:
            raise Overloaded("no database connection came free in time; retry shortly") from None
        try:
            async with translate_unavailable(), self.pool.acquire() as conn:
                try:
                    yield conn
                except Exception as exc:
                    if classify(exc) is DatabaseUnavailable:
                        # never handed out again: the pool opens a new one (unless the pool
                        # has already taken the dead connection back, which is as good)
                        with suppress(asyncpg.InterfaceError):
                            conn.terminate()
                    raise
        finally:
            self._free.release()

    async def close(self) -> None:
        await self.pool.close()


# The hot paths' statements are of fixed shape (key look-ups, one index walk each way from a
# slot, the group commit's arrays), and PostgreSQL's custom plans cost more than they save:
# it planned the alternatives' walks anew on every call (0.5 ms, against 0.18 ms to run
# them, with the same plan) and, since its generic plan guesses long arrays, each small
# batch of holds (~0.5 ms). Every statement on these pools keeps the generic plan.
GENERIC_PLANS = {"plan_cache_mode": "force_generic_plan"}


async def create_bounded_pool(
    dsn: str,
    settings: Settings,
    *,
    size: int | None = None,
) -> BoundedPool:
    """The asyncpg pool of the hot path: prepared statements, no per-release reset.

    It opens connections on demand, so the service starts (and answers 503) while the
    database is down. `size` replaces the pool size setting. Its statements keep their
    generic plan (`GENERIC_PLANS`).
    """
    keepalive = Keepalive.of(settings)
    size = size or settings.db_pool_size

    async def init(conn: Any) -> None:
        apply_keepalive(conn, keepalive)

    async with translate_unavailable():
        pool = await asyncpg.create_pool(
            dsn,
            min_size=0,
            max_size=size,
            max_inactive_connection_lifetime=0,
            timeout=settings.db_connect_timeout_seconds,
            command_timeout=command_timeout(settings),
            reset=_keep_session,
            init=init,
            server_settings=server_settings(settings) | GENERIC_PLANS,
        )
    return BoundedPool(
        pool,
        size=size,
        wait_seconds=settings.db_pool_timeout_seconds,
    )
