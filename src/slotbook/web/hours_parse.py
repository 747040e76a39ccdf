"""The weekly hours form posted back: its fields into an availability, every problem tied
to the field it is about (field names as in `hours_form`).

Every row posted is read, however many: the limits are the domain's (the API's too), and a
form over one is refused whole with the problem shown, never cut down to fit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from itertools import count
from uuid import UUID

from slotbook.domain.availability import (
    MAX_HOURS_PER_DAY,
    Availability,
    DateOverride,
    OpenHours,
    ServiceHours,
    Span,
    WeeklyHours,
)
from slotbook.domain.model import Service
from slotbook.web.hours_form import (
    ChangeRow,
    Errors,
    HoursForm,
    HoursRow,
    ServiceRows,
    empty_changes,
    empty_days_off,
)

FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2199, 12, 31)
_TIME = re.compile(r"\s*(\d{1,2})[:.](\d{2})\s*")
_ROW = re.compile(r"(off-|w-[0-9a-f-]{36}-[0-6]-|o-[0-9a-f-]{36}-)(\d{1,9})(?:-|$)")


@dataclass
class Parsed:
    """What the posted form says: the availability, the form to show again, the problems
    found reading it, and where each part of the availability came from."""

    availability: Availability
    form: HoursForm
    errors: Errors
    weekly_keys: dict[int, list[HoursRow]]  # by service index, in `weekly` order
    change_keys: dict[int, list[list[HoursRow]]]  # by service index, override, hours


def _time(value: str) -> int | None:
    found = _TIME.fullmatch(value)
    if not found:
        return None
    hours, minutes = int(found.group(1)), int(found.group(2))
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        return None
    return hours * 60 + minutes


def _day(value: str) -> date | None:
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        return None
    return day if FIRST_DAY <= day <= LAST_DAY else None


def add(errors: Errors, name: str, code: str) -> None:
    errors.setdefault(name, []).append(code)


def _read_row(data: Mapping[str, str], key: str) -> HoursRow | None:
    """The row's fields as typed (None when it is not on the form at all)."""
    start, end = data.get(f"{key}-start"), data.get(f"{key}-end")
    if start is None and end is None:
        return None
    breaks: list[tuple[str, str]] = []
    for k in count():
        pair = data.get(f"{key}-b{k}-start"), data.get(f"{key}-b{k}-end")
        if pair == (None, None):
            break
        breaks.append((pair[0] or "", pair[1] or ""))
    return HoursRow(key, (start or "").strip(), (end or "").strip(), breaks or [("", "")])


def is_empty(row: HoursRow) -> bool:
    return not (row.start or row.end or any(a or b for a, b in row.breaks))


def _hours_of(row: HoursRow, errors: Errors) -> OpenHours | None:
    """The row's hours, or None with its problems noted (an empty break is no break)."""
    ok = True
    span: list[int] = []
    for part in ("start", "end"):
        value = getattr(row, part)
        minutes = _time(value) if value else None
        if minutes is None:
            add(errors, f"{row.key}-{part}", "time" if value else "both")
            ok = False
        span.append(minutes or 0)
    breaks: list[Span] = []
    for k, (a, b) in enumerate(row.breaks):
        if not (a or b):
            continue
        ta, tb = (_time(a) if a else None), (_time(b) if b else None)
        if ta is None or tb is None:
            name = f"{row.key}-b{k}-{'start' if ta is None else 'end'}"
            add(errors, name, "time" if (a if ta is None else b) else "break-both")
            ok = False
            continue
        breaks.append(Span(ta, tb))
    return OpenHours(Span(span[0], span[1]), tuple(breaks)) if ok else None


def _row_numbers(data: Mapping[str, str]) -> dict[str, list[int]]:
    """The rows posted, by the part of their key before the row number, in order."""
    found: dict[str, set[int]] = {}
    for name in data:
        row = _ROW.match(name)
        if row is not None:
            found.setdefault(row.group(1), set()).add(int(row.group(2)))
    return {prefix: sorted(numbers) for prefix, numbers in found.items()}


def parse(data: Mapping[str, str], services: list[Service]) -> Parsed:
    """Read the posted form against the provider's services: every row posted."""
    errors: Errors = {}
    rows_of = _row_numbers(data)
    timezone = data.get("timezone", "").strip()
    out: list[ServiceHours] = []
    rows: list[ServiceRows] = []
    weekly_keys: dict[int, list[HoursRow]] = {}
    change_keys: dict[int, list[list[HoursRow]]] = {}
    for i, service in enumerate(services):
        sid = service.id
        days, weekly, weekly_keys[i] = _weekly(data, rows_of, sid, errors)
        changes, overrides, keys = _changes(data, rows_of.get(f"o-{sid}-", []), sid, errors)
        change_keys[i] = keys
        out.append(ServiceHours(sid, tuple(weekly), overrides))
        rows.append(ServiceRows(service, days, changes))
    days_off, off_rows = _days_off(data, rows_of.get("off-", []), errors)
    form = HoursForm(timezone, rows, off_rows)
    availability = Availability(tuple(out), frozenset(days_off))
    return Parsed(availability, form, errors, weekly_keys, change_keys)


def _weekly(
    data: Mapping[str, str], rows_of: dict[str, list[int]], sid: UUID, errors: Errors
) -> tuple[list[list[HoursRow]], list[WeeklyHours], list[HoursRow]]:
    """Each weekday's rows as typed (and one empty), the hours read, the row of each."""
    days: list[list[HoursRow]] = []
    weekly: list[WeeklyHours] = []
    keys: list[HoursRow] = []
    for weekday in range(7):
        prefix = f"w-{sid}-{weekday}-"
        typed = _typed_rows(data, [f"{prefix}{r}" for r in rows_of.get(prefix, [])])
        for row in typed:
            hours = _hours_of(row, errors)
            if hours is not None:
                weekly.append(WeeklyHours(weekday, hours))
                keys.append(row)
        nxt = _next(typed[-1].key) if typed else 0
        more = [HoursRow(f"{prefix}{nxt}")] if len(typed) < MAX_HOURS_PER_DAY else []
        days.append(typed + more)
    return days, weekly, keys


def _next(key: str) -> int:
    return int(key.rsplit("-", 1)[1]) + 1


def _typed_rows(data: Mapping[str, str], keys: list[str]) -> list[HoursRow]:
    found = [_read_row(data, key) for key in keys]
    return [row for row in found if row is not None and not is_empty(row)]


def _changes(
    data: Mapping[str, str], numbers: list[int], sid: UUID, errors: Errors
) -> tuple[list[ChangeRow], tuple[DateOverride, ...], list[list[HoursRow]]]:
    """One-off changes: rows of one date make one change; closed, or that day's hours."""
    typed: list[ChangeRow] = []
    for r in numbers:
        key = f"o-{sid}-{r}"
        row = _read_row(data, key)
        typed_day = data.get(f"{key}-date")
        if row is None and typed_day is None:
            continue
        closed = f"{key}-closed" in data
        change = ChangeRow(key, (typed_day or "").strip(), closed, row or HoursRow(key))
        if change.day or closed or not is_empty(change.hours):
            typed.append(change)
    by_day: dict[date, list[tuple[ChangeRow, OpenHours | None]]] = {}
    for change in typed:
        day: date | None = _day(change.day) if change.day else None
        if day is None:
            add(errors, f"{change.key}-date", "date" if change.day else "change-date")
        has_hours = not is_empty(change.hours)
        if change.closed and has_hours:
            add(errors, f"{change.key}-closed", "closed-and-hours")
        elif not change.closed and not has_hours:
            add(errors, f"{change.key}-closed", "closed-or-hours")
        hours = _hours_of(change.hours, errors) if has_hours else None
        if day is not None:
            by_day.setdefault(day, []).append((change, hours))
    overrides: list[DateOverride] = []
    keys: list[list[HoursRow]] = []
    for on, entries in by_day.items():
        kept = [(c.hours, h) for c, h in entries if h is not None]
        overrides.append(DateOverride(on, tuple(h for _, h in kept)))
        keys.append([row for row, _ in kept] or [entries[0][0].hours])
    nxt = _next(typed[-1].key) if typed else 0
    return typed + empty_changes(sid, nxt), tuple(overrides), keys


def _days_off(
    data: Mapping[str, str], numbers: list[int], errors: Errors
) -> tuple[set[date], list[tuple[str, str]]]:
    """The days off typed (a date given twice is one day off, as in the API)."""
    found: set[date] = set()
    rows: list[tuple[str, str]] = []
    for r in numbers:
        value = data.get(f"off-{r}")
        if value is None or not value.strip():
            continue
        rows.append((f"off-{r}", value.strip()))
        day = _day(value)
        if day is None:
            add(errors, f"off-{r}", "date")
        else:
            found.add(day)
    nxt = _next(rows[-1][0]) if rows else 0
    return found, rows + empty_days_off(nxt)
