"""The weekly hours form: the stored availability as rows of fields (the posted fields
are read back in `hours_parse`).

Field names carry the service's id, so a service added meanwhile cannot shift hours to
another: `w-<service>-<weekday>-<row>-start|end`, its breaks `...-b<k>-start|end`; one-off
changes `o-<service>-<row>-date|closed|start|end|b<k>-...` (rows of one date make one
change); days off `off-<row>`; `timezone`. A problem is a code the page words (or, for a
rule it does not know, the rule's own text).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from slotbook.domain.availability import (
    MAX_DAYS_OFF,
    MAX_HOURS_PER_DAY,
    MAX_OVERRIDES,
    Availability,
    OpenHours,
    ServiceHours,
)
from slotbook.domain.model import Service

EMPTY_CHANGE_ROWS = 2
EMPTY_DAYS_OFF = 2
Errors = dict[str, list[str]]


@dataclass
class HoursRow:
    key: str
    start: str = ""
    end: str = ""
    breaks: list[tuple[str, str]] = field(default_factory=lambda: [("", "")])


@dataclass
class ChangeRow:
    key: str
    day: str = ""
    closed: bool = False
    hours: HoursRow = field(default_factory=lambda: HoursRow(""))


@dataclass
class ServiceRows:
    service: Service
    days: list[list[HoursRow]]
    changes: list[ChangeRow]


@dataclass
class HoursForm:
    timezone: str
    services: list[ServiceRows]
    days_off: list[tuple[str, str]]


def wall(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _row(key: str, hours: OpenHours) -> HoursRow:
    breaks = [(wall(b.start), wall(b.end)) for b in hours.breaks] or [("", "")]
    return HoursRow(key, wall(hours.span.start), wall(hours.span.end), breaks)


def form_of(stored: Availability, services: list[Service], timezone: str) -> HoursForm:
    """The stored availability as the form shows it, with empty rows to add more."""
    by_id = {s.service_id: s for s in stored.services}
    rows: list[ServiceRows] = []
    for service in services:
        sid = service.id
        hours = by_id.get(sid, ServiceHours(sid))
        days: list[list[HoursRow]] = []
        for weekday in range(7):
            spans = sorted((w.hours for w in hours.weekly if w.weekday == weekday), key=_start)
            days.append([_row(f"w-{sid}-{weekday}-{r}", h) for r, h in enumerate(spans)])
            if len(spans) < MAX_HOURS_PER_DAY:
                days[-1].append(HoursRow(f"w-{sid}-{weekday}-{len(spans)}"))
        changes: list[ChangeRow] = []
        for change in sorted(hours.overrides, key=lambda o: o.day):
            listed: list[OpenHours | None] = [*sorted(change.hours, key=_start)]
            for h in listed or [None]:
                key = f"o-{sid}-{len(changes)}"
                row = _row(key, h) if h else HoursRow(key)
                changes.append(ChangeRow(key, change.day.isoformat(), h is None, row))
        changes += empty_changes(sid, len(changes))
        rows.append(ServiceRows(service, days, changes))
    off = [(f"off-{r}", d.isoformat()) for r, d in enumerate(sorted(stored.days_off))]
    return HoursForm(timezone, rows, off + empty_days_off(len(off)))


def _start(hours: OpenHours) -> int:
    return hours.span.start


def empty_changes(sid: UUID, first: int) -> list[ChangeRow]:
    return [
        ChangeRow(f"o-{sid}-{r}", hours=HoursRow(f"o-{sid}-{r}"))
        for r in range(first, min(first + EMPTY_CHANGE_ROWS, MAX_OVERRIDES))
    ]


def empty_days_off(first: int) -> list[tuple[str, str]]:
    return [(f"off-{r}", "") for r in range(first, min(first + EMPTY_DAYS_OFF, MAX_DAYS_OFF))]
