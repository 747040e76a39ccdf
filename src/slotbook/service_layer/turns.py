"""Turns: one request at a time per key (a customer) within this process.

A customer's holds are serialised here before they reach the database: two of them at
once would only race each other for the one-active-hold-per-customer index. Waiters get
their turn in arrival order, for a bounded time. A key is remembered only while a request
holds or waits for it, so the memory used is bounded by the requests in flight. Other
processes are not covered: there the database's index and the lock's retries decide.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Hashable
from contextlib import suppress
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class Turns(Generic[K]):
    def __init__(self) -> None:
        self._waiting: dict[K, deque[asyncio.Future[None]]] = {}

    def __len__(self) -> int:
        """How many keys are in use (held or waited for) now."""
        return len(self._waiting)

    async def take(self, key: K, *, wait_seconds: float) -> None:
        """Return once it is the caller's turn for `key`; TimeoutError after waiting
        `wait_seconds`. Every `take` that returns must be followed by `done(key)`."""
        queue = self._waiting.get(key)
        if queue is None:
            self._waiting[key] = deque()
            return
        turn = asyncio.get_running_loop().create_future()
        queue.append(turn)
        try:
            async with asyncio.timeout(wait_seconds):
                await turn
        except BaseException:
            if turn.done() and not turn.cancelled():
                self.done(key)  # handed the turn just as the wait ended: pass it on
            else:
                with suppress(ValueError):  # `done` may have dropped it already
                    queue.remove(turn)
            raise

    def done(self, key: K) -> None:
        """End the caller's turn: the longest waiter gets it, or the key is forgotten."""
        queue = self._waiting[key]
        while queue:
            turn = queue.popleft()
            if not turn.done():
                turn.set_result(None)
                return
        del self._waiting[key]
