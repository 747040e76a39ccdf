"""The slot: one bookable time of one provider for one service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from uuid import UUID

from slotbook.domain.states import SlotStatus


@dataclass(frozen=True, slots=True)
class Slot:
    id: UUID
    provider_id: UUID
    service_id: UUID
    category: str
    starts_at: datetime
    ends_at: datetime
    price_minor: int
    currency: str
    status: SlotStatus
    held_until: datetime | None = None
    hold_id: UUID | None = None

    def status_at(self, now: datetime) -> SlotStatus:
        """The slot as it reads at `now`: closed once it has started (unless booked), and
        available when its hold has run out, swept or not."""
        if self.status is SlotStatus.BOOKED:
            return self.status
        if now >= self.starts_at:
            return SlotStatus.CLOSED
        ran_out = self.held_until is not None and now >= self.held_until
        if self.status is SlotStatus.HELD and ran_out:
            return SlotStatus.AVAILABLE
        return self.status

    def is_bookable(self, now: datetime) -> bool:
        """Free to hold: it reads available (so it has not started either)."""
        return self.status_at(now) is SlotStatus.AVAILABLE


def slot_times(starts_at: datetime, duration_minutes: int) -> tuple[datetime, datetime]:
    """The [start, end) interval of a slot of a service of that duration."""
    return starts_at, starts_at + timedelta(minutes=duration_minutes)


def overlapping(intervals: list[tuple[datetime, datetime]]) -> bool:
    """True when any two of the half-open intervals overlap."""
    ordered = sorted(intervals)
    return any(nxt[0] < cur[1] for cur, nxt in pairwise(ordered))
