"""The webhook worker: sends due deliveries, retries with backoff, gives up in the end.

Each attempt is signed at the moment it is sent (Standard Webhooks: `webhook-id` is the
event id, the same for every copy and retry; `webhook-timestamp` is now), so a late or
repeated delivery carries a fresh timestamp and the same id. A 2xx answer delivers it;
anything else (an error status, a refused connection, a timeout) schedules the next
attempt after 1, 2, 4 ... times the first backoff (at most five minutes), until the
delivery's give-up time, when it is abandoned. The attempts of one claimed batch go out
together and their results are written together, in one transaction of the file.

A new event's copies that are due at once do not wait for the worker's next pass: the
transaction that writes the event claims them too (`claim_new`), and once it commits they
are sent straight away (`send_now`), their results written in one transaction with any
others that came back meanwhile. A process that dies before sending them leaves them
claimed until the lease ends, as for any claim; then any worker sends them.
"""

from __future__ import annotations

import asyncio
from contextlib import suppress
from datetime import datetime, timedelta

import httpx
import structlog
from sqlalchemy.ext.asyncio import AsyncConnection
from standardwebhooks import Webhook

from slotbook.domain.clock import Clock
from slotbook.sandbox import delivery_store as store
from slotbook.sandbox.config import SandboxConfig
from slotbook.sandbox.db import SandboxDb

MAX_BACKOFF_SECONDS = 300.0
# new events of this process wake its worker at once; other processes' leftovers (a crash
# mid-send) and clocks moved by tests are found at least this often
IDLE_POLL_SECONDS = 1.0
MIN_IDLE_SECONDS = 0.01  # never a busy loop, whatever the clock says
CLAIM_BATCH = 16
LEASE_MARGIN_SECONDS = 5.0
USER_AGENT = "slotbook-sandbox-gateway/1"
log = structlog.get_logger("slotbook.sandbox.webhooks")


def signed_headers(signer: Webhook, event_id: str, now: datetime, body: str) -> dict[str, str]:
    """The three Standard Webhooks headers of one attempt, signed now."""
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signer.sign(event_id, now, body),
    }


class Deliverer:
    def __init__(self, *, db: SandboxDb, clock: Clock, config: SandboxConfig) -> None:
        self._db, self._clock, self._config = db, clock, config
        self._signer = Webhook(config.webhook_secret)
        self._client = httpx.AsyncClient(
            timeout=config.webhook_timeout_seconds,
            follow_redirects=False,
            trust_env=False,
            headers={"user-agent": USER_AGENT, "content-type": "application/json"},
        )
        self._woken = asyncio.Event()
        self._running = False
        self._sending: set[asyncio.Task[None]] = set()
        self._unrecorded: list[tuple[store.DueDelivery, datetime, int | None, str | None]] = []
        self._recording: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """Look for due deliveries now (a new event, or a test that moved the clock)."""
        self._woken.set()

    async def claim_new(self, conn: AsyncConnection, event_id: str) -> list[store.DueDelivery]:
        """In the transaction that wrote the event: claim its copies due now, for
        `send_now` once it commits (none while this process's worker is not running)."""
        if not self._running:
            return []
        now = self._clock.now()
        return await store.claim_due(
            conn, now=now, lease_until=now + self._lease(), limit=CLAIM_BATCH, event_id=event_id
        )

    def send_now(self, due: list[store.DueDelivery]) -> None:
        """Send deliveries claimed by a committed transaction, each at once."""
        for delivery in due:
            task = asyncio.create_task(self._send_and_record(delivery))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

    async def run(self) -> None:
        """Deliver until cancelled; a failing pass is logged and tried again."""
        self._running = True
        try:
            await self._run()
        finally:
            self._running = False

    async def _run(self) -> None:
        while True:
            self._woken.clear()
            try:
                idle = await self._pass()
            except Exception:
                log.exception("webhook_pass_failed")
                idle = IDLE_POLL_SECONDS
            if idle > 0:
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._woken.wait(), idle)

    async def deliver_due(self) -> int:
        """Claim what is due now and attempt it; how many were attempted."""
        now = self._clock.now()
        async with self._db.write() as conn:
            due = await store.claim_due(
                conn, now=now, lease_until=now + self._lease(), limit=CLAIM_BATCH
            )
        if not due:
            return 0
        results = await asyncio.gather(*(self._attempt(delivery) for delivery in due))
        async with self._db.write() as conn:
            for delivery, (sent_at, code, error) in zip(due, results, strict=True):
                await self._record(conn, delivery, sent_at, code, error)
        return len(due)

    async def close(self) -> None:
        """Stop sending (what was claimed and not recorded is sent again once its lease
        ends) and close the client."""
        pending = [*self._sending, *([self._recording] if self._recording else [])]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        await self._client.aclose()

    def _lease(self) -> timedelta:
        return timedelta(seconds=self._config.webhook_timeout_seconds + LEASE_MARGIN_SECONDS)

    async def _send_and_record(self, delivery: store.DueDelivery) -> None:
        self._unrecorded.append((delivery, *await self._attempt(delivery)))
        if self._recording is None or self._recording.done():
            self._recording = asyncio.create_task(self._record_unrecorded())

    async def _record_unrecorded(self) -> None:
        """Write every result that came back, in one transaction while more come back;
        a failed write is logged and left to the leases."""
        while self._unrecorded:
            try:
                async with self._db.write() as conn:
                    batch, self._unrecorded = self._unrecorded, []
                    for delivery, sent_at, code, error in batch:
                        await self._record(conn, delivery, sent_at, code, error)
            except Exception:
                log.exception("webhook_results_not_recorded")
                return

    async def _pass(self) -> float:
        """Deliver what can be claimed now; the seconds to wait before the next pass. An
        idle pass only reads: the file's write lock is taken when there is work."""
        async with self._db.read() as conn:
            claimable = await store.next_claimable_at(conn)
        if claimable is None:
            return IDLE_POLL_SECONDS
        wait = (claimable - self._clock.now()).total_seconds()
        if wait > 0:
            return min(IDLE_POLL_SECONDS, max(MIN_IDLE_SECONDS, wait))
        await self.deliver_due()
        return 0.0

    async def _attempt(
        self, delivery: store.DueDelivery
    ) -> tuple[datetime, int | None, str | None]:
        """Send one delivery: when, the answer's status code (None: no answer), the error."""
        sent_at = self._clock.now()
        headers = signed_headers(self._signer, delivery.event_id, sent_at, delivery.body)
        code: int | None = None
        error: str | None = None
        try:
            answer = await self._client.post(delivery.url, content=delivery.body, headers=headers)
            code = answer.status_code
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        log.info(
            "webhook_attempt",
            event_id=delivery.event_id,
            url=delivery.url,
            attempt=delivery.attempts,
            status_code=code,
            error=error,
        )
        return sent_at, code, error

    async def _record(
        self,
        conn: AsyncConnection,
        delivery: store.DueDelivery,
        sent_at: datetime,
        code: int | None,
        error: str | None,
    ) -> None:
        if code is not None and 200 <= code < 300:
            now = self._clock.now()
            await store.mark_delivered(conn, delivery.id, now=now, status_code=code)
        else:
            retry_at = self._retry_at(delivery, sent_at)
            await store.mark_failed(
                conn, delivery.id, retry_at=retry_at, status_code=code, error=error
            )

    def _retry_at(self, delivery: store.DueDelivery, sent_at: datetime) -> datetime | None:
        doublings = min(delivery.attempts - 1, 20)
        backoff = min(MAX_BACKOFF_SECONDS, self._config.webhook_retry_seconds * 2**doublings)
        retry_at = sent_at + timedelta(seconds=backoff)
        return retry_at if retry_at <= delivery.give_up_at else None
