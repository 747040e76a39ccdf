"""Waking whoever waits on a payment (`GET /v1/payments/{id}?wait=`) when it changes.

In-process, an event per waiter. On PostgreSQL, every status write also runs
`pg_notify('slotbook_payments', id)` in its transaction (adapters/db/repos/payments.py),
and one listening connection per process wakes this process's waiters when any process
commits a change: a waiter answers the moment the payment is final, at no cost per
waiting request. Waiters also re-check at a slow interval, so a signal lost while the
listener reconnects (or on SQLite, from another process) delays an answer a little and
never loses it.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg
import structlog

CHANNEL = "slotbook_payments"
log = structlog.get_logger("slotbook.payment_watch")


@dataclass(frozen=True, slots=True)
class _Signal:
    event: asyncio.Event
    recheck_seconds: float

    async def wait(self, seconds: float) -> None:
        with suppress(TimeoutError):
            await asyncio.wait_for(self.event.wait(), timeout=min(seconds, self.recheck_seconds))


class LocalWatch:
    def __init__(self, *, recheck_seconds: float = 1.0) -> None:
        self._waiters: defaultdict[UUID, set[asyncio.Event]] = defaultdict(set)
        self._recheck = recheck_seconds

    def poke(self, payment_id: UUID) -> None:
        for event in self._waiters.get(payment_id, ()):
            event.set()

    @asynccontextmanager
    async def watching(self, payment_id: UUID) -> AsyncIterator[_Signal]:
        event = asyncio.Event()
        self._waiters[payment_id].add(event)
        try:
            yield _Signal(event, self._recheck)
        finally:
            waiters = self._waiters.get(payment_id)
            if waiters is not None:
                waiters.discard(event)
                if not waiters:
                    del self._waiters[payment_id]

    async def close(self) -> None:
        """Nothing to release in-process."""


class PgWatch(LocalWatch):
    """LocalWatch, plus a LISTEN connection that turns other processes' commits into
    pokes. It connects on the first watch and again after losing its connection."""

    def __init__(self, dsn: str, *, recheck_seconds: float = 2.0) -> None:
        super().__init__(recheck_seconds=recheck_seconds)
        self._dsn = dsn
        self._conn: Any = None
        self._connecting: asyncio.Lock | None = None

    @asynccontextmanager
    async def watching(self, payment_id: UUID) -> AsyncIterator[_Signal]:
        await self._listen()
        async with super().watching(payment_id) as changed:
            yield changed

    async def _listen(self) -> None:
        if self._conn is not None and not self._conn.is_closed():
            return
        self._connecting = self._connecting or asyncio.Lock()
        async with self._connecting:
            if self._conn is not None and not self._conn.is_closed():
                return
            try:
                conn = await asyncpg.connect(self._dsn, timeout=3)
                await conn.add_listener(CHANNEL, self._on_notify)
            except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
                log.warning("payment_watch_not_listening", error=str(exc))
                return  # the re-check interval still answers every waiter
            self._conn = conn

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        with suppress(ValueError):
            self.poke(UUID(payload))

    async def close(self) -> None:
        if self._conn is not None:
            with suppress(Exception):
                await self._conn.close()
            self._conn = None
