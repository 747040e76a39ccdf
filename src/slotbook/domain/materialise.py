"""What materialising an availability changes, given the slots a provider already has.
Pure: the caller reads the slots and writes the changes, in one transaction.

- A wanted slot that exists (same service, start and end) is kept; closed, it reopens.
- A slot the availability opened that is no longer wanted is closed if it is free
  (`available`); held, booked or started ones are never touched.
- Such a slot that is in a wanted slot's way, free and never referenced (no hold, no
  saved booking) is deleted instead, to make room (hours moved by half an hour, say).
- A wanted slot in the way of any other slot (added by hand, held, booked) is skipped.
Slots added by hand are never changed.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from slotbook.domain.schedule import PlannedSlot
from slotbook.domain.slots import Slot
from slotbook.domain.states import SlotStatus

FREE = (SlotStatus.AVAILABLE, SlotStatus.CLOSED)


@dataclass(frozen=True, slots=True)
class ExistingSlot:
    slot: Slot
    opened_by_availability: bool
    referenced: bool  # a hold or a saved booking points at it


@dataclass(frozen=True, slots=True)
class Changes:
    insert: list[PlannedSlot] = field(default_factory=list)
    reopen: list[UUID] = field(default_factory=list)
    close: list[UUID] = field(default_factory=list)
    delete: list[UUID] = field(default_factory=list)
    skipped: list[PlannedSlot] = field(default_factory=list)


def _key(service_id: UUID, start: datetime, end: datetime) -> tuple[UUID, datetime, datetime]:
    return service_id, start, end


class _Intervals:
    """Non-overlapping [start, end) intervals, asked whether one overlaps any of them."""

    def __init__(self, spans: Sequence[tuple[datetime, datetime]]) -> None:
        ordered = sorted(spans)
        self._starts = [s for s, _ in ordered]
        self._ends = [e for _, e in ordered]

    def overlaps(self, start: datetime, end: datetime) -> bool:
        i = bisect_left(self._starts, end) - 1
        return i >= 0 and self._ends[i] > start


def plan(
    desired: Sequence[PlannedSlot], existing: Sequence[ExistingSlot], *, now: datetime
) -> Changes:
    """The changes that make the provider's slots what `desired` asks, as the rules say.
    `desired` never overlaps itself; `existing` is every slot of the provider ending after
    `now` (the database keeps them from overlapping)."""
    ours = {
        _key(e.slot.service_id, e.slot.starts_at, e.slot.ends_at): e
        for e in existing
        if e.opened_by_availability and e.slot.starts_at > now
    }
    wanted = {_key(d.service_id, d.starts_at, d.ends_at) for d in desired}
    new = [d for d in desired if _key(d.service_id, d.starts_at, d.ends_at) not in ours]
    new_spans = _Intervals([(d.starts_at, d.ends_at) for d in new])
    changes = Changes()
    removed: set[UUID] = set()
    for key, e in ours.items():
        s = e.slot
        if key in wanted:
            if s.status is SlotStatus.CLOSED:
                changes.reopen.append(s.id)
        elif s.status in FREE and not e.referenced and new_spans.overlaps(s.starts_at, s.ends_at):
            changes.delete.append(s.id)
            removed.add(s.id)
        elif s.status is SlotStatus.AVAILABLE:
            changes.close.append(s.id)
    staying = _Intervals(
        [(e.slot.starts_at, e.slot.ends_at) for e in existing if e.slot.id not in removed]
    )
    for d in new:
        target = changes.skipped if staying.overlaps(d.starts_at, d.ends_at) else changes.insert
        target.append(d)
    return changes
