"""Problems on the weekly hours form: each rule an availability breaks tied back to the
field it is about, as a code the page words."""

from __future__ import annotations

from slotbook.domain import validation
from slotbook.domain.availability import MAX_BREAKS, MAX_DAYS_OFF, Loc
from slotbook.web.hours_form import Errors, HoursRow
from slotbook.web.hours_parse import Parsed, add, is_empty


def zone_errors(timezone: str) -> Errors:
    try:
        validation.check_timezone(timezone)
    except ValueError:
        return {"timezone": ["zone"]}
    return {}


_CODES = (
    ("must be after start", "end"),
    ("a break must end", "break"),
    ("overlaps another break", "break-overlap"),
    ("overlaps other hours", "overlap"),
    ("overlaps another service", "other-service"),
    ("no such service", "service"),
    ("this date is changed twice", "date-twice"),
    ("too many services", "too-many-services"),
    ("too many weekly hours", "too-many-weekly"),
    ("too many one-off changes", "too-many-changes"),
    ("too many hours on one date", "too-many-hours"),
    ("too many breaks", "too-many-breaks"),
    ("too many days off", "too-many-days-off"),
)


def code_of(msg: str) -> str:
    """The page's word for a rule broken; a rule it does not know keeps its own text."""
    return next((code for prefix, code in _CODES if msg.startswith(prefix)), msg)


def place(found: list[tuple[Loc, str]], parsed: Parsed, errors: Errors) -> None:
    """Tie each problem of the availability (its `loc`, as publish reports it without the
    leading "body") to the field it is about: the row, the break, the zone, the service."""
    for loc, msg in found:
        add(errors, _field(loc, msg, parsed), code_of(msg) if loc != ("timezone",) else "zone")


def _field(loc: Loc, msg: str, parsed: Parsed) -> str:
    if loc[:1] == ("timezone",):
        return "timezone"
    if loc == ("days_off",):  # too many: the first day off over the limit
        days = [key for key, value in parsed.form.days_off if value]
        return days[MAX_DAYS_OFF] if len(days) > MAX_DAYS_OFF else "form"
    if loc[:1] != ("services",) or len(loc) < 3 or not isinstance(loc[1], int):
        return "form"
    i = loc[1]
    rows = parsed.form.services[i]
    section = f"svc-{rows.service.id}"
    row: HoursRow | None = None
    rest: Loc = ()
    if loc[2] == "weekly" and len(loc) > 3 and isinstance(loc[3], int):
        row, rest = parsed.weekly_keys[i][loc[3]], loc[4:]
    elif loc[2] == "overrides" and len(loc) > 3 and isinstance(loc[3], int):
        entries = parsed.change_keys[i][loc[3]]
        if loc[4:5] == ("hours",) and len(loc) > 5 and isinstance(loc[5], int):
            row, rest = entries[loc[5]], loc[6:]
        else:
            return f"{entries[0].key}-date"
    elif loc[2:] == ("overrides",):  # too many changes
        return section
    elif loc[2] == "overrides":  # another service's hours on a changed date
        day = msg.rsplit(" ", 1)[-1]
        match = [c for c in rows.changes if c.day == day and not is_empty(c.hours)]
        return f"{match[0].key}-start" if match else section
    if row is None:
        return section
    if rest[:1] == ("end",):
        return f"{row.key}-end"
    if rest[:1] == ("breaks",):
        typed = [k for k, (a, b) in enumerate(row.breaks) if a or b]
        if len(rest) > 1 and isinstance(rest[1], int):
            return f"{row.key}-b{typed[rest[1]]}-start"
        if len(typed) > MAX_BREAKS:  # too many: the first break over the limit
            return f"{row.key}-b{typed[MAX_BREAKS]}-start"
    return f"{row.key}-start"
