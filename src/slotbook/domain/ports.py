"""Ports: what the service layer needs from the outside, as Protocols."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from slotbook.domain.holds import Hold
from slotbook.domain.slots import Slot
from slotbook.domain.suggestions import Suggestion


@dataclass(frozen=True, slots=True)
class LockRequest:
    """One attempt to lock `slot_id` for `customer_id` as hold `hold_id` until `expires_at`."""

    hold_id: UUID
    slot_id: UUID
    customer_id: UUID
    now: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class LockResult:
    """What one lock attempt found: the new hold, or why not, when the store read it."""

    hold: Hold | None
    inspected: bool = False  # True: `slot` and `holder` were read by the attempt itself
    slot: Slot | None = None
    holder: Hold | None = None


class HoldStore(Protocol):
    """The storage of the hot path: the lock itself, and what a refusal needs to answer."""

    async def try_lock(self, request: LockRequest) -> LockResult:
        """Atomically check the slot is free and hold it; `hold` is None when it is not.

        In the same atomic step: an expired hold on the slot is marked expired (takeover),
        and only once the new hold is granted, the customer's previous active hold is
        released (superseded) and its slot freed. A failure anywhere leaves nothing behind.
        """
        ...

    async def inspect(self, slot_id: UUID) -> tuple[Slot | None, Hold | None]:
        """The slot (None if unknown) and its active hold, expired or not."""
        ...

    async def alternatives(self, target: Slot, *, now: datetime, limit: int) -> list[Suggestion]:
        """Up to 4 x `limit` slots free at `now`, nearest to the target's start on each side:
        the same provider's, and other providers' of the same category."""
        ...
