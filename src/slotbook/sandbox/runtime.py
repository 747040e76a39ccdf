"""The sandbox gateway at work: its file, its clock, its webhook worker, and the
operations the merchant API, the control calls and the hosted page share.

Each operation is one write transaction: the change and the events it owes are written
together, and the webhook worker is woken once it is committed.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from slotbook.domain.clock import Clock
from slotbook.domain.gateway import (
    EventKind,
    GatewayPaymentStatus,
    PaymentMethod,
    RefundStatus,
)
from slotbook.sandbox import delivery_store, payment_store
from slotbook.sandbox.config import SandboxConfig
from slotbook.sandbox.db import SandboxDb
from slotbook.sandbox.deliverer import Deliverer
from slotbook.sandbox.delivery_store import DueDelivery
from slotbook.sandbox.errors import NotRefundable, RefundTooLarge, StorageUnavailable
from slotbook.sandbox.model import (
    PAYMENT_PREFIX,
    REFUND_PREFIX,
    MerchantApiMode,
    Outcome,
    PaymentRecord,
    RefundRecord,
    WebhookShaping,
    new_id,
)

MERCHANT_API = "merchant_api"
STORAGE_RETRY_SECONDS = 1.0
log = structlog.get_logger("slotbook.sandbox")


@dataclass(frozen=True, slots=True)
class NewPayment:
    reference: str
    amount_minor: int
    currency: str
    method: PaymentMethod
    description: str
    return_url: str
    notify_url: str
    expires_at: datetime


def fingerprint(operation: str, **values: object) -> str:
    """What one request asked for, to tell a replay from another request under one key."""
    text = json.dumps([operation, values], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class Sandbox:
    def __init__(self, config: SandboxConfig, *, clock: Clock) -> None:
        self.config, self.clock = config, clock
        self.db = SandboxDb(config.database_url)
        self.deliverer = Deliverer(db=self.db, clock=clock, config=config)
        self._give_up_after = timedelta(seconds=config.webhook_give_up_seconds)
        self._ready = False

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Sandbox]:
        """The webhook worker running (and the tables created, if the file can be opened
        now: if not, the gateway answers 503 until it can); closed on the way out."""
        try:
            await self.ensure_ready()
        except StorageUnavailable as exc:
            log.error("sandbox_storage_unavailable", detail=exc.message)
        worker = asyncio.create_task(self._deliver(), name="sandbox-webhooks")
        try:
            yield self
        finally:
            worker.cancel()
            with suppress(asyncio.CancelledError):
                await worker
            await self.deliverer.close()
            await self.db.dispose()

    async def ensure_ready(self) -> None:
        """Its tables exist; StorageUnavailable while its file cannot be opened."""
        if self._ready:
            return
        try:
            await self.db.create_tables()
        except SQLAlchemyError as exc:
            raise StorageUnavailable(f"cannot open {self.config.database_url}: {exc}") from exc
        self._ready = True

    async def _deliver(self) -> None:
        while not self._ready:  # a file that could not be opened at start
            with suppress(StorageUnavailable):
                await self.ensure_ready()
            if not self._ready:
                await asyncio.sleep(STORAGE_RETRY_SECONDS)
        await self.deliverer.run()

    async def create_payment(
        self, new: NewPayment, *, key: str, redirect_for: Callable[[str], str]
    ) -> tuple[PaymentRecord, bool]:
        """The payment this key names, created now if it names none yet (True)."""
        now, payment_id = self.clock.now(), new_id(PAYMENT_PREFIX)
        asked = fingerprint("create_payment", **asdict(new))
        async with self.db.write() as conn:
            earlier = await payment_store.claim_key(
                conn, key=key, fingerprint=asked, resource_id=payment_id, now=now
            )
            if earlier is not None:
                return await payment_store.load_payment(conn, earlier), False
            payment = PaymentRecord(
                id=payment_id,
                status=GatewayPaymentStatus.PENDING,
                redirect_url=redirect_for(payment_id),
                created_at=now,
                cancelled_at=None,
                settled_at=None,
                refunded_minor=0,
                **asdict(new),
            )
            await payment_store.insert_payment(conn, payment)
            # as stored (times to the millisecond), so a replay answers exactly the same
            return await payment_store.load_payment(conn, payment_id), True

    async def payment(self, payment_id: str) -> tuple[PaymentRecord, list[RefundRecord]]:
        async with self.db.read() as conn:
            payment = await payment_store.load_payment(conn, payment_id)
            return payment, await payment_store.refunds_of(conn, payment_id)

    async def cancel(self, payment_id: str) -> PaymentRecord:
        """Cancel a pending payment; a settled one answers as it is (succeeded: the race)."""
        async with self.db.write() as conn:
            return await payment_store.cancel_pending(conn, payment_id, self.clock.now())

    async def settle(
        self, payment_id: str, outcome: Outcome, shaping: WebhookShaping | None = None
    ) -> PaymentRecord:
        """Settle a payment not settled yet, cancelled ones included; AlreadySettled else.
        Stamped once the file's write lock is held: the times follow the commit order."""
        async with self.db.write() as conn:
            now = self.clock.now()
            payment = await payment_store.settle(conn, payment_id, outcome, now)
            event_id = await delivery_store.record_event(
                conn,
                outcome.event,
                payment=payment,
                now=now,
                shaping=shaping or WebhookShaping(),
                give_up_after=self._give_up_after,
            )
            due = await self.deliverer.claim_new(conn, event_id)
        self.deliverer.send_now(due)
        self.deliverer.wake()
        return payment

    async def refund(
        self, payment_id: str, *, amount_minor: int, currency: str, key: str
    ) -> tuple[RefundRecord, bool]:
        """The refund this key names, made now if it names none yet (True)."""
        now, refund_id = self.clock.now(), new_id(REFUND_PREFIX)
        asked = fingerprint("refund", payment_id=payment_id, amount=amount_minor, cur=currency)
        async with self.db.write() as conn:
            payment = await payment_store.load_payment(conn, payment_id)
            earlier = await payment_store.claim_key(
                conn, key=key, fingerprint=asked, resource_id=refund_id, now=now
            )
            if earlier is not None:
                return await payment_store.load_refund(conn, earlier), False
            refund, due = await self._take_refund(
                conn, payment, refund_id, amount_minor, currency, now
            )
        self.deliverer.send_now(due)
        self.deliverer.wake()
        return refund, True

    async def _take_refund(
        self,
        conn: AsyncConnection,
        payment: PaymentRecord,
        refund_id: str,
        amount_minor: int,
        currency: str,
        now: datetime,
    ) -> tuple[RefundRecord, list[DueDelivery]]:
        if payment.status is not GatewayPaymentStatus.SUCCEEDED:
            raise NotRefundable(f"payment {payment.id} is {payment.status.value}, not succeeded")
        if currency != payment.currency:
            raise RefundTooLarge(
                f"payment {payment.id} is in {payment.currency}", loc=("body", "currency")
            )
        if not await payment_store.take_refund(conn, payment.id, amount_minor):
            left = payment.amount_minor - payment.refunded_minor
            raise RefundTooLarge(
                f"payment {payment.id} has {left} {currency} left to refund",
                loc=("body", "amount_minor"),
            )
        refund = RefundRecord(
            refund_id, payment.id, amount_minor, currency, RefundStatus.SUCCEEDED, now
        )
        await payment_store.insert_refund(conn, refund)
        event_id = await delivery_store.record_event(
            conn,
            EventKind.REFUND_SUCCEEDED,
            payment=await payment_store.load_payment(conn, payment.id),
            refund=refund,
            now=now,
            shaping=WebhookShaping(),
            give_up_after=self._give_up_after,
        )
        return refund, await self.deliverer.claim_new(conn, event_id)

    async def events(self, payment_id: str) -> list[dict[str, object]]:
        async with self.db.read() as conn:
            await payment_store.load_payment(conn, payment_id)
            return await delivery_store.events_of(conn, payment_id)

    async def merchant_api_mode(self) -> MerchantApiMode:
        async with self.db.read() as conn:
            value = await payment_store.read_switch(conn, MERCHANT_API, MerchantApiMode.UP)
        return MerchantApiMode(value)

    async def set_merchant_api_mode(self, mode: MerchantApiMode) -> None:
        async with self.db.write() as conn:
            await payment_store.write_switch(conn, MERCHANT_API, mode.value)
