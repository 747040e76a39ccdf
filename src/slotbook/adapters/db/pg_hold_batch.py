"""Group commit of holds on PostgreSQL: every hold waiting at one moment, one statement.

Concurrent `try_lock` calls queue. A few placers, each with a connection of its own, take
up to `batch_size` waiting requests at a time and place them with `BATCH_SQL`, resolving
each caller with its own answer. There is no timer: a lone request goes at once (with
today's single statement, which is cheaper alone), and requests pile up only while the
placers are busy. Reads and the single-request path stay on `PgHoldStore` and its pool.

What a batch guards against (docs/group-commit.md):
- two requests of one customer never share a batch, nor two batches in flight: the later
  waits for a later batch, in its place in the queue;
- a unique violation (a customer's hold placed meanwhile by another process) or a
  deadlock retries the batch once; then each request goes alone, on the single path with
  its own retries, so one bad request never fails its neighbours;
- a connection found dead is replaced once, as on the single path; an outage or an
  overload fails the batch's requests with the same 503s.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import os
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import structlog

from slotbook.adapters.db.connections import BoundedPool
from slotbook.adapters.db.pg_hold_batch_sql import BATCH_SQL, batch_args, batch_results
from slotbook.adapters.db.pg_hold_lock import LOCK_SQL, PgHoldStore, lock_args, lock_result
from slotbook.domain.errors import DatabaseUnavailable, Overloaded
from slotbook.domain.ports import Inspection, LockRequest, LockResult
from slotbook.domain.slots import Slot
from slotbook.domain.suggestions import Suggestion

_BATCH_ATTEMPTS = 2
_ALONE = None  # a request's answer when it is to go alone, on the single path
_REPORT_SECONDS = 1.0
log = structlog.get_logger("slotbook.holds")


@dataclass(eq=False, slots=True)
class _Waiting:
    request: LockRequest
    answer: asyncio.Future[LockResult | None]
    deadline: asyncio.TimerHandle | None = None  # past it, still queued: overloaded


@dataclass(slots=True)
class BatchStats:
    """How many batches of each size were placed (a batch of one is a lone request)."""

    sizes: Counter[int] = field(default_factory=Counter)

    def as_json(self) -> dict[str, int]:
        return {str(size): n for size, n in sorted(self.sizes.items())}


class BatchingHoldStore:
    def __init__(
        self,
        single: PgHoldStore,
        pool: BoundedPool,
        *,
        batch_size: int,
        placers: int,
        queue_wait_seconds: float,
    ) -> None:
        self._single = single
        self._pool = pool
        self._batch_size = batch_size
        self._placers = placers
        self._queue_wait = queue_wait_seconds
        self._queue: deque[_Waiting] = deque()
        self._busy: set[UUID] = set()  # customers with a request in a batch in flight
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.stats = BatchStats()

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        while self._queue:
            waiting = self._queue.popleft()
            if waiting.deadline is not None:
                waiting.deadline.cancel()
            _answer(waiting, error=DatabaseUnavailable("the service is shutting down"))
        await self._pool.close()
        await self._single.close()

    async def inspect(self, slot_id: UUID, customer_id: UUID) -> Inspection:
        return await self._single.inspect(slot_id, customer_id)

    async def alternatives(self, target: Slot, *, now: datetime, limit: int) -> list[Suggestion]:
        return await self._single.alternatives(target, now=now, limit=limit)

    async def try_lock(self, request: LockRequest) -> LockResult:
        """As `PgHoldStore.try_lock`, placed together with the holds waiting meanwhile."""
        loop = asyncio.get_running_loop()
        waiting = _Waiting(request, loop.create_future())
        waiting.deadline = loop.call_later(self._queue_wait, self._overdue, waiting)
        self._queue.append(waiting)
        self._wake.set()
        if not self._tasks:
            # started by a request, but none of its context (its request id, say) is theirs
            placers = [self._place_batches() for _ in range(self._placers)]
            self._tasks = [
                asyncio.create_task(c, context=contextvars.Context())
                for c in [*placers, self._report()]
            ]
        try:
            answer = await waiting.answer
        except asyncio.CancelledError:
            self._overdue(waiting, cancelled=True)
            raise
        if answer is _ALONE:
            return await self._single.try_lock(request)
        return answer

    async def _report(self) -> None:
        """Log the batch sizes so far (`hold_batches`, per process) when they changed, at
        most once a second: the benchmark reads them."""
        reported: dict[str, int] = {}
        while True:
            await asyncio.sleep(_REPORT_SECONDS)
            sizes = self.stats.as_json()
            if sizes != reported:
                log.info("hold_batches", pid=os.getpid(), sizes=sizes)
                reported = sizes

    async def _place_batches(self) -> None:
        while True:
            batch = self._take()
            if not batch:
                self._wake.clear()
                await self._wake.wait()
                continue
            self.stats.sizes[len(batch)] += 1
            try:
                answers = await self._place([w.request for w in batch])
            except Exception as exc:  # an outage or overload: every request's answer
                for waiting in batch:
                    _answer(waiting, error=exc)
            else:
                for waiting, answer in zip(batch, answers, strict=True):
                    _answer(waiting, answer)
            finally:
                unanswered = [w for w in batch if not w.answer.done()]
                if unanswered:  # only when the placer itself is cancelled (closing)
                    closing = DatabaseUnavailable("the service is shutting down")
                    for waiting in unanswered:
                        _answer(waiting, error=closing)
                self._busy.difference_update(w.request.customer_id for w in batch)
                if self._queue:
                    self._wake.set()  # those left behind for their customer's sake

    def _overdue(self, waiting: _Waiting, *, cancelled: bool = False) -> None:
        """A request still queued when its wait runs out (the pool timeout, as for a pooled
        connection) is answered `Overloaded`, and one whose caller is gone is forgotten."""
        try:
            self._queue.remove(waiting)
        except ValueError:
            return  # already in a batch: its statement runs, bounded by the statement timeout
        if waiting.deadline is not None:
            waiting.deadline.cancel()
        if not cancelled:
            _answer(waiting, error=Overloaded("no hold placer came free in time; retry shortly"))

    def _take(self) -> list[_Waiting]:
        """Up to `batch_size` waiting requests in arrival order, none of a customer already
        in a batch (those wait, in their place, for a later batch). It reads the queue only
        as far as the batch needs: a burst of thousands costs each batch its own size."""
        batch: list[_Waiting] = []
        skipped: list[_Waiting] = []
        while self._queue and len(batch) < self._batch_size:
            waiting = self._queue.popleft()
            customer = waiting.request.customer_id
            if waiting.answer.done():
                continue
            if customer in self._busy:
                skipped.append(waiting)
            else:
                self._busy.add(customer)
                if waiting.deadline is not None:
                    waiting.deadline.cancel()
                batch.append(waiting)
        self._queue.extendleft(reversed(skipped))
        return batch

    async def _place(self, requests: Sequence[LockRequest]) -> list[LockResult | None]:
        """Each request's answer, or _ALONE for those to go on the single path."""
        for _ in range(_BATCH_ATTEMPTS if len(requests) > 1 else 1):
            try:
                rows = await self._run(requests)
            except (asyncpg.UniqueViolationError, asyncpg.DeadlockDetectedError):
                continue  # a clash with another process: the batch once more, whole
            except asyncpg.PostgresError:
                break  # one request the statement refuses (a vanished account, say)
            if len(requests) == 1:
                return [lock_result(requests[0], rows[0])]
            return list(batch_results(requests, rows))
        return [_ALONE] * len(requests)

    async def _run(self, requests: Sequence[LockRequest]) -> list[Any]:
        """The statement's rows, on a new connection once if the pooled one was dead (the
        attempt may have committed: a request then finds its own hold)."""
        reconnected = False
        while True:
            try:
                async with self._pool.acquire() as conn:
                    if len(requests) == 1:
                        return [await conn.fetchrow(LOCK_SQL, *lock_args(requests[0]))]
                    return list(await conn.fetch(BATCH_SQL, *batch_args(requests)))
            except DatabaseUnavailable:
                if reconnected:
                    raise
                reconnected = True


def _answer(
    waiting: _Waiting, answer: LockResult | None = None, *, error: BaseException | None = None
) -> None:
    if waiting.answer.done():
        return  # its caller is gone
    if error is not None:
        waiting.answer.set_exception(error)
    else:
        waiting.answer.set_result(answer)
