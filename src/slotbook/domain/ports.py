"""Ports: what the service layer needs from the outside, as Protocols."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from slotbook.domain.holds import Hold
from slotbook.domain.slots import Slot
from slotbook.domain.suggestions import Suggestion


@dataclass(frozen=True, slots=True)
class LockRequest:
    """One attempt to lock `slot_id` for `customer_id` as hold `hold_id`.

    The hold lasts until `expires_at`, or until the slot starts if that comes first.
    """

    hold_id: UUID
    slot_id: UUID
    customer_id: UUID
    now: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Inspection:
    """A slot as one read saw it: the slot (None if unknown), its active hold (expired or
    not), and whether the customer asking still has an account."""

    slot: Slot | None
    holder: Hold | None
    customer_known: bool


@dataclass(frozen=True, slots=True)
class LockResult:
    """What one lock attempt found: the new hold, or, if it was refused, what the attempt
    itself read of the slot (None when it read nothing)."""

    hold: Hold | None
    seen: Inspection | None = None


class HoldStore(Protocol):
    """The storage of the hot path: the lock itself, and what a refusal needs to answer."""

    async def try_lock(self, request: LockRequest) -> LockResult:
        """Atomically check the slot is free and hold it; `hold` is None when it is not.

        In the same atomic step: an expired hold on the slot is marked expired (takeover),
        and only once the new hold is granted, the customer's previous active hold is
        released (superseded) and its slot freed. A failure anywhere leaves nothing behind.
        Raises AccountGone when the customer no longer exists, and HoldContended when the
        customer's own concurrent holds kept crossing until the retries ran out.
        """
        ...

    async def inspect(self, slot_id: UUID, customer_id: UUID) -> Inspection:
        """The slot, its active hold, and whether the customer exists, as they are now."""
        ...

    async def alternatives(self, target: Slot, *, now: datetime, limit: int) -> list[Suggestion]:
        """Up to 4 x `limit` slots free at `now`, nearest to the target's start on each side:
        the same provider's, and other providers' of the same category."""
        ...


class ChangeSignal(Protocol):
    async def wait(self, seconds: float) -> None:
        """Return at the payment's next change, after `seconds`, or at a short
        re-check interval, whichever comes first (so a missed signal costs little)."""
        ...


class PaymentWatch(Protocol):
    """Tells waiters that a payment may have changed, across processes where it can."""

    def poke(self, payment_id: UUID) -> None:
        """Wake this process's waiters on the payment (after a commit that changed it)."""
        ...

    def watching(self, payment_id: UUID) -> AbstractAsyncContextManager[ChangeSignal]:
        """While open, changes of the payment are signalled (open it before reading the
        payment, so a change between the read and the wait is not missed)."""
        ...

    async def close(self) -> None:
        """Release what it holds (a listening connection)."""
        ...
