"""Expanding weekly hours into slots: pure, across time zones and DST changes."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from slotbook.domain.availability import (
    Availability,
    DateOverride,
    OpenHours,
    ServiceHours,
    Span,
    WeeklyHours,
    problems,
)
from slotbook.domain.schedule import expand

SERVICE = uuid.uuid4()
ZONES = ["Europe/London", "America/New_York", "Asia/Bangkok", "Australia/Lord_Howe", "UTC"]


def every_day(*hours: OpenHours, service: uuid.UUID = SERVICE) -> ServiceHours:
    return ServiceHours(service, weekly=tuple(WeeklyHours(d, h) for d in range(7) for h in hours))


def local(slots: list, zone: str) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    z = ZoneInfo(zone)
    return [
        (
            s.starts_at.astimezone(z).strftime("%m-%d %H:%M"),
            s.ends_at.astimezone(z).strftime("%H:%M"),
        )
        for s in slots
    ]


def run(a: Availability, zone: str, after: datetime, days: int = 1, minutes: int = 60) -> list:  # type: ignore[type-arg]
    return expand(
        a,
        zone=ZoneInfo(zone),
        durations={SERVICE: minutes},
        after=after,
        until=after + timedelta(days=days),
    )


def test_bangkok_hours_with_a_break_day_off_and_override() -> None:
    a = Availability(
        services=(
            ServiceHours(
                SERVICE,
                weekly=(
                    WeeklyHours(0, OpenHours(Span(9 * 60, 13 * 60), (Span(11 * 60, 12 * 60),))),
                ),
                overrides=(DateOverride(date(2030, 1, 14), (OpenHours(Span(18 * 60, 20 * 60)),)),),
            ),
        ),
        days_off=frozenset({date(2030, 1, 21)}),
    )
    found = run(a, "Asia/Bangkok", datetime(2030, 1, 6, tzinfo=UTC), days=21)
    assert local(found, "Asia/Bangkok") == [
        ("01-07 09:00", "10:00"),
        ("01-07 10:00", "11:00"),
        ("01-07 12:00", "13:00"),
        ("01-14 18:00", "19:00"),
        ("01-14 19:00", "20:00"),
    ]
    assert found[0].starts_at == datetime(2030, 1, 7, 2, 0, tzinfo=UTC)


def test_london_spring_forward_opens_the_real_hours_only() -> None:
    a = Availability(services=(every_day(OpenHours(Span(0, 4 * 60))),))
    found = run(a, "Europe/London", datetime(2026, 3, 28, 12, tzinfo=UTC))
    assert local(found, "Europe/London") == [
        ("03-29 00:00", "02:00"),  # 00:00 GMT to 02:00 BST: one real hour
        ("03-29 02:00", "03:00"),
        ("03-29 03:00", "04:00"),
    ]
    assert all(s.ends_at - s.starts_at == timedelta(hours=1) for s in found)


def test_new_york_fall_back_opens_the_repeated_hour_too() -> None:
    a = Availability(services=(every_day(OpenHours(Span(0, 4 * 60))),))
    found = run(a, "America/New_York", datetime(2026, 11, 1, 3, tzinfo=UTC))
    assert [s.starts_at.strftime("%H:%M") for s in found] == [
        "04:00",
        "05:00",
        "06:00",
        "07:00",
        "08:00",
    ]
    assert local(found, "America/New_York")[1:3] == [
        ("11-01 01:00", "01:00"),
        ("11-01 01:00", "02:00"),
    ]


def test_a_wall_time_in_the_skipped_hour_moves_forward_and_never_overlaps() -> None:
    hours = (OpenHours(Span(60, 105)), OpenHours(Span(120, 180)))  # 01:00-01:45, 02:00-03:00
    a = Availability(services=(every_day(*hours),))
    found = run(a, "Europe/London", datetime(2026, 3, 28, 12, tzinfo=UTC), minutes=45)
    assert local(found, "Europe/London") == [("03-29 02:00", "02:45")]


def test_nine_to_five_keeps_its_wall_times_across_the_change() -> None:
    a = Availability(services=(every_day(OpenHours(Span(9 * 60, 17 * 60))),))
    found = run(a, "Europe/London", datetime(2026, 3, 27, tzinfo=UTC), days=4)
    by_day: dict[str, list[str]] = {}
    for start, _ in local(found, "Europe/London"):
        by_day.setdefault(start[:5], []).append(start[6:])
    assert len(by_day) == 4
    assert all(times == [f"{h:02d}:00" for h in range(9, 17)] for times in by_day.values())


spans = st.tuples(st.integers(0, 1439), st.integers(1, 600)).map(
    lambda t: Span(t[0], min(1440, t[0] + t[1]))
)


@st.composite
def day_hours(draw: st.DrawFn) -> list[OpenHours]:
    cuts = sorted(draw(st.sets(st.integers(0, 1440), min_size=2, max_size=8)))
    found = []
    for start, end in zip(cuts[::2], cuts[1::2], strict=False):
        inner = [b for b in draw(st.lists(spans, max_size=2)) if start <= b.start and b.end <= end]
        breaks = inner[:1]
        found.append(OpenHours(Span(start, end), tuple(breaks)))
    return found


@settings(max_examples=60, deadline=None)
@given(
    weekly=st.lists(day_hours(), min_size=7, max_size=7),
    zone=st.sampled_from(ZONES),
    minutes=st.sampled_from([15, 30, 45, 60, 90]),
    offset_hours=st.integers(0, 24 * 365),
    days_off=st.sets(st.integers(0, 20), max_size=4),
)
def test_slots_lie_in_open_time_never_overlap_and_respect_days_off(
    weekly: list[list[OpenHours]], zone: str, minutes: int, offset_hours: int, days_off: set[int]
) -> None:
    after = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=offset_hours)
    z = ZoneInfo(zone)
    first_day = after.astimezone(z).date()
    off = frozenset(first_day + timedelta(days=d) for d in days_off)
    service = ServiceHours(
        SERVICE, weekly=tuple(WeeklyHours(d, h) for d in range(7) for h in weekly[d])
    )
    a = Availability(services=(service,), days_off=off)
    assert problems(a) == []
    until = after + timedelta(days=14)
    found = expand(a, zone=z, durations={SERVICE: minutes}, after=after, until=until)
    assert found == sorted(found)
    for s, nxt in itertools.pairwise(found):
        assert s.ends_at <= nxt.starts_at
    for s in found:
        assert after < s.starts_at <= until
        assert s.ends_at - s.starts_at == timedelta(minutes=minutes)
        start = s.starts_at.astimezone(z)
        assert start.date() not in off
        # inside some open segment of its local day, in real time
        segments = [seg for h in service.hours_on(start.date()) for seg in h.segments()]
        day = start.date()

        def instant(m: int, day: date = day) -> datetime:
            wall = datetime.combine(day, datetime.min.time()) + timedelta(minutes=m)
            return wall.replace(tzinfo=z).astimezone(UTC)

        assert any(
            instant(g.start) <= s.starts_at and s.ends_at <= instant(g.end) for g in segments
        )
    assert expand(a, zone=z, durations={SERVICE: minutes}, after=after, until=until) == found


@given(start=st.integers(0, 1380), minutes=st.sampled_from([15, 30, 45, 60]))
def test_without_dst_each_day_opens_every_whole_slot_of_its_hours(start: int, minutes: int) -> None:
    end = min(1440, start + 180)
    a = Availability(services=(every_day(OpenHours(Span(start, end))),))
    midnight = datetime(2030, 5, 31, 17, tzinfo=UTC)  # 00:00 in Bangkok
    found = run(a, "Asia/Bangkok", midnight, days=7, minutes=minutes)
    assert len(found) == 7 * ((end - start) // minutes)
