"""Ports: what the service layer needs from the outside, as Protocols."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from slotbook.domain.holds import Hold


@dataclass(frozen=True, slots=True)
class LockRequest:
    """One attempt to lock `slot_id` for `customer_id` as hold `hold_id` until `expires_at`."""

    hold_id: UUID
    slot_id: UUID
    customer_id: UUID
    now: datetime
    expires_at: datetime


class HoldLocker(Protocol):
    async def try_lock(self, request: LockRequest) -> Hold | None:
        """Atomically check the slot is free and hold it; None when it is not free.

        In the same atomic step: an expired hold on the slot is marked expired (takeover),
        and only once the new hold is granted, the customer's previous active hold is
        released (superseded) and its slot freed. A failure anywhere leaves nothing behind.
        """
        ...
