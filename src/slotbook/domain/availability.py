"""A provider's availability: weekly opening hours per service, in the provider's time zone.

Wall-clock times are minutes since local midnight (0 to 1440; 1440 is the end of the day).
For each service:
- `weekly`: opening hours per weekday (0 = Monday), each with its breaks inside it;
- `overrides`: one-off changes, by local date: that day's hours instead of the weekly ones
  (no hours: the service is not offered that day).
For the provider as a whole, `days_off`: local dates with no slot at all.

The rules (`problems` lists every one broken, with where):
- an interval ends after it starts; a break lies inside its hours; breaks do not overlap;
- one service's hours of one day do not overlap each other;
- no two services' hours overlap on any day (a provider serves one customer at a time,
  which the slots' own no-overlap rule enforces too);
- a service and a date appear at most once;
- every list is bounded (the limits below): the API's request schema and the web form take
  their bounds from here, and `problems` reports any list over its bound, so no caller
  stores part of what it was given.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import pairwise
from uuid import UUID

DAY_MINUTES = 24 * 60
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

Loc = tuple[str | int, ...]

MAX_SERVICES = 50
MAX_HOURS_PER_DAY = 12  # stretches of hours on one changed date
MAX_WEEKLY = 7 * MAX_HOURS_PER_DAY  # weekly stretches of one service
MAX_BREAKS = 12  # in one stretch of hours
MAX_OVERRIDES = 400  # one-off changes of one service
MAX_DAYS_OFF = 400


@dataclass(frozen=True, slots=True, order=True)
class Span:
    """[start, end) in minutes since local midnight."""

    start: int
    end: int

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True, slots=True)
class OpenHours:
    span: Span
    breaks: tuple[Span, ...] = ()

    def segments(self) -> list[Span]:
        """The open time left once the breaks are taken out, in order."""
        found: list[Span] = []
        cursor = self.span.start
        for pause in sorted(self.breaks):
            if pause.start > cursor:
                found.append(Span(cursor, pause.start))
            cursor = max(cursor, pause.end)
        if cursor < self.span.end:
            found.append(Span(cursor, self.span.end))
        return found


@dataclass(frozen=True, slots=True)
class WeeklyHours:
    weekday: int  # 0 = Monday, as date.weekday()
    hours: OpenHours


@dataclass(frozen=True, slots=True)
class DateOverride:
    day: date
    hours: tuple[OpenHours, ...] = ()  # none: not offered that day


@dataclass(frozen=True, slots=True)
class ServiceHours:
    service_id: UUID
    weekly: tuple[WeeklyHours, ...] = ()
    overrides: tuple[DateOverride, ...] = ()

    def hours_on(self, day: date) -> list[OpenHours]:
        """The service's hours on that local date: an override's, else the weekday's."""
        for override in self.overrides:
            if override.day == day:
                return list(override.hours)
        return [w.hours for w in self.weekly if w.weekday == day.weekday()]


@dataclass(frozen=True, slots=True)
class Availability:
    services: tuple[ServiceHours, ...] = ()
    days_off: frozenset[date] = field(default_factory=frozenset)

    def hours_on(self, day: date) -> Iterator[tuple[ServiceHours, OpenHours]]:
        if day in self.days_off:
            return
        for service in self.services:
            for hours in service.hours_on(day):
                yield service, hours


@dataclass(frozen=True, slots=True)
class Problem:
    loc: Loc
    msg: str


def problems(availability: Availability) -> list[Problem]:
    """Every rule the availability breaks, each with where (relative to the body)."""
    found = list(_too_many(availability))
    seen_services: set[UUID] = set()
    for i, service in enumerate(availability.services):
        at: Loc = ("services", i)
        if service.service_id in seen_services:
            found.append(Problem((*at, "service_id"), "this service is listed twice"))
        seen_services.add(service.service_id)
        found.extend(_service_problems(service, at))
    found.extend(_cross_service_problems(availability))
    return found


def _too_many(availability: Availability) -> Iterator[Problem]:
    """Every list over its bound."""
    if len(availability.services) > MAX_SERVICES:
        yield Problem(("services",), f"too many services: at most {MAX_SERVICES}")
    for i, service in enumerate(availability.services):
        at: Loc = ("services", i)
        if len(service.weekly) > MAX_WEEKLY:
            msg = f"too many weekly hours: at most {MAX_WEEKLY} per service"
            yield Problem((*at, "weekly"), msg)
        if len(service.overrides) > MAX_OVERRIDES:
            msg = f"too many one-off changes: at most {MAX_OVERRIDES} per service"
            yield Problem((*at, "overrides"), msg)
        hours: list[tuple[Loc, OpenHours]] = [
            ((*at, "weekly", j), w.hours) for j, w in enumerate(service.weekly)
        ]
        for j, override in enumerate(service.overrides):
            where: Loc = (*at, "overrides", j, "hours")
            if len(override.hours) > MAX_HOURS_PER_DAY:
                msg = f"too many hours on one date: at most {MAX_HOURS_PER_DAY}"
                yield Problem(where, msg)
            hours += [((*where, k), h) for k, h in enumerate(override.hours)]
        for loc, h in hours:
            if len(h.breaks) > MAX_BREAKS:
                msg = f"too many breaks: at most {MAX_BREAKS} in one stretch of hours"
                yield Problem((*loc, "breaks"), msg)
    if len(availability.days_off) > MAX_DAYS_OFF:
        yield Problem(("days_off",), f"too many days off: at most {MAX_DAYS_OFF}")


def _service_problems(service: ServiceHours, at: Loc) -> Iterator[Problem]:
    for j, weekly in enumerate(service.weekly):
        yield from _hours_problems(weekly.hours, (*at, "weekly", j))
    by_weekday: dict[int, list[tuple[Loc, OpenHours]]] = {}
    for j, weekly in enumerate(service.weekly):
        by_weekday.setdefault(weekly.weekday, []).append(((*at, "weekly", j), weekly.hours))
    for entries in by_weekday.values():
        yield from _overlaps(entries, "overlaps other hours of this service that day")
    seen_days: set[date] = set()
    for j, override in enumerate(service.overrides):
        where: Loc = (*at, "overrides", j)
        if override.day in seen_days:
            yield Problem((*where, "date"), "this date is changed twice")
        seen_days.add(override.day)
        entries = [((*where, "hours", k), h) for k, h in enumerate(override.hours)]
        for loc, hours in entries:
            yield from _hours_problems(hours, loc)
        yield from _overlaps(entries, "overlaps other hours of this service that day")


def _hours_problems(hours: OpenHours, at: Loc) -> Iterator[Problem]:
    if not 0 <= hours.span.start < hours.span.end <= DAY_MINUTES:
        yield Problem((*at, "end"), "must be after start, on the same day")
        return
    for k, pause in enumerate(hours.breaks):
        if not hours.span.start <= pause.start < pause.end <= hours.span.end:
            yield Problem((*at, "breaks", k), "a break must end after it starts, within its hours")
    for (a, _), (b, k) in pairwise(sorted((b, k) for k, b in enumerate(hours.breaks))):
        if a.overlaps(b):
            yield Problem((*at, "breaks", k), "overlaps another break")


def _overlaps(entries: Sequence[tuple[Loc, OpenHours]], msg: str) -> Iterator[Problem]:
    ordered = sorted(entries, key=lambda e: (e[1].span, e[0]))
    for (_, a), (loc, b) in pairwise(ordered):
        if a.span.overlaps(b.span):
            yield Problem(loc, msg)


def _cross_service_problems(availability: Availability) -> Iterator[Problem]:
    """Two services open at the same time on some day: on a weekday, or on a changed date."""
    services = availability.services
    for weekday in range(7):
        spans: list[tuple[UUID, Loc, Span]] = [
            (s.service_id, ("services", i, "weekly", j), w.hours.span)
            for i, s in enumerate(services)
            for j, w in enumerate(s.weekly)
            if w.weekday == weekday
        ]
        yield from _cross(spans, f"overlaps another service's hours on {WEEKDAYS[weekday]}")
    changed = sorted({o.day for s in services for o in s.overrides})
    for day in changed:
        spans = [
            (s.service_id, ("services", i, "overrides", "hours"), h.span)
            for i, s in enumerate(services)
            for h in s.hours_on(day)
        ]
        yield from _cross(spans, f"overlaps another service's hours on {day.isoformat()}")


def _cross(spans: list[tuple[UUID, Loc, Span]], msg: str) -> Iterator[Problem]:
    """A sweep by start: a span that starts before the furthest end so far of another
    service overlaps it (one service's own spans are checked apart, as disjoint)."""
    furthest: tuple[int, UUID] | None = None
    for service_id, loc, span in sorted(spans, key=lambda s: (s[2], str(s[0]))):
        if furthest is not None and span.start < furthest[0] and service_id != furthest[1]:
            yield Problem(loc, msg)
        if furthest is None or span.end > furthest[0]:
            furthest = (span.end, service_id)


def durations_known(availability: Availability, durations: Mapping[UUID, int]) -> list[Problem]:
    """The services that are not the provider's (`durations` holds the provider's own)."""
    return [
        Problem(("services", i, "service_id"), "no such service of this provider")
        for i, s in enumerate(availability.services)
        if s.service_id not in durations
    ]
