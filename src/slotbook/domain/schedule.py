"""Expanding an availability into the slots it opens, over a window of time. Pure: no I/O.

Each open segment (hours minus breaks) of a local date is turned into UTC with `zoneinfo`
and cut into back-to-back slots of the service's duration, counted in real time, so a
slot always lasts its duration whatever the clocks do:
- a wall time that does not exist (the hour skipped when clocks go forward) is read as the
  same time after the change (01:30 becomes 02:30), as zoneinfo's fold=0 reads it;
- a wall time that happens twice (clocks go back) is its first occurrence; hours that span
  the change hold the real time between start and end (one hour more, or one less);
- a slot that would overlap an earlier one (possible only around a skipped hour) is left
  out, so the slots never overlap.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from slotbook.domain.availability import Availability, Span


@dataclass(frozen=True, slots=True, order=True)
class PlannedSlot:
    starts_at: datetime
    ends_at: datetime
    service_id: UUID


def wall_to_utc(day: date, minute: int, zone: ZoneInfo) -> datetime:
    """The instant of a local wall-clock time (minutes since midnight, 1440 the next day's
    midnight), as fold=0 reads it."""
    wall = datetime.combine(day, time(0)) + timedelta(minutes=minute)
    return wall.replace(tzinfo=zone).astimezone(UTC)


def expand(
    availability: Availability,
    *,
    zone: ZoneInfo,
    durations: Mapping[UUID, int],
    after: datetime,
    until: datetime,
) -> list[PlannedSlot]:
    """The slots the availability opens that start after `after` and by `until`, ordered
    by start; services missing from `durations` open none."""
    first = after.astimezone(zone).date() - timedelta(days=1)
    last = until.astimezone(zone).date() + timedelta(days=1)
    planned: list[PlannedSlot] = []
    day = first
    while day <= last:
        for service, hours in availability.hours_on(day):
            minutes = durations.get(service.service_id)
            if minutes is None:
                continue
            for segment in hours.segments():
                planned.extend(_cut(day, segment, zone, service.service_id, minutes))
        day += timedelta(days=1)
    return _without_overlaps(s for s in planned if after < s.starts_at <= until)


def _cut(
    day: date, segment: Span, zone: ZoneInfo, service_id: UUID, minutes: int
) -> list[PlannedSlot]:
    start = wall_to_utc(day, segment.start, zone)
    end = wall_to_utc(day, segment.end, zone)
    step = timedelta(minutes=minutes)
    found: list[PlannedSlot] = []
    while start + step <= end:
        found.append(PlannedSlot(start, start + step, service_id))
        start += step
    return found


def _without_overlaps(slots: Iterable[PlannedSlot]) -> list[PlannedSlot]:
    kept: list[PlannedSlot] = []
    for s in sorted(slots):
        if not kept or kept[-1].ends_at <= s.starts_at:
            kept.append(s)
    return kept
