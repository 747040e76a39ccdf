"""The webhook worker: sends due deliveries, retries with backoff, gives up in the end.

Each attempt is signed at the moment it is sent (Standard Webhooks: `webhook-id` is the
event id, the same for every copy and retry; `webhook-timestamp` is now), so a late or
repeated delivery carries a fresh timestamp and the same id. A 2xx answer delivers it;
anything else (an error status, a refused connection, a timeout) schedules the next
attempt after 1, 2, 4 ... times the first backoff (at most five minutes), until the
delivery's give-up time, when it is abandoned. The attempts of one claimed batch go out
together and their results are written together, in one transaction of the file.
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

    def wake(self) -> None:
        """Look for due deliveries now (a new event, or a test that moved the clock)."""
        self._woken.set()

    async def run(self) -> None:
        """Deliver until cancelled; a failing pass is logged and tried again."""
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
        lease = timedelta(seconds=self._config.webhook_timeout_seconds + LEASE_MARGIN_SECONDS)
        async with self._db.write() as conn:
            due = await store.claim_due(conn, now=now, lease_until=now + lease, limit=CLAIM_BATCH)
        if not due:
            return 0
        results = await asyncio.gather(*(self._attempt(delivery) for delivery in due))
        async with self._db.write() as conn:
            for delivery, (sent_at, code, error) in zip(due, results, strict=True):
                await self._record(conn, delivery, sent_at, code, error)
        return len(due)

    async def close(self) -> None:
        await self._client.aclose()

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
