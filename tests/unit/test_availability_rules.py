"""The availability's rules, and what materialising changes: pure, no database."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from slotbook.domain.availability import (
    Availability,
    DateOverride,
    OpenHours,
    ServiceHours,
    Span,
    WeeklyHours,
    problems,
)
from slotbook.domain.materialise import ExistingSlot, plan
from slotbook.domain.schedule import PlannedSlot
from slotbook.domain.slots import Slot
from slotbook.domain.states import SlotStatus

A, B = uuid.uuid4(), uuid.uuid4()
NOW = datetime(2030, 1, 1, tzinfo=UTC)


def locs(a: Availability) -> list[tuple[str | int, ...]]:
    return [p.loc for p in problems(a)]


def test_a_valid_week_has_no_problems() -> None:
    a = Availability(
        services=(
            ServiceHours(A, weekly=(WeeklyHours(0, OpenHours(Span(540, 720), (Span(600, 615),))),)),
            ServiceHours(B, weekly=(WeeklyHours(0, OpenHours(Span(720, 1440))),)),
        )
    )
    assert problems(a) == []


def test_every_broken_rule_is_reported_with_where() -> None:
    bad = Availability(
        services=(
            ServiceHours(
                A,
                weekly=(
                    WeeklyHours(0, OpenHours(Span(600, 540))),  # ends before it starts
                    WeeklyHours(
                        1,
                        OpenHours(Span(540, 720), (Span(500, 560), Span(600, 660), Span(630, 700))),
                    ),
                    WeeklyHours(2, OpenHours(Span(540, 720))),
                    WeeklyHours(2, OpenHours(Span(700, 800))),  # overlaps the one before
                ),
                overrides=(DateOverride(date(2030, 1, 2)), DateOverride(date(2030, 1, 2))),
            ),
            ServiceHours(B, weekly=(WeeklyHours(1, OpenHours(Span(700, 760))),)),  # crosses A
            ServiceHours(A),
        )
    )
    found = locs(bad)
    assert ("services", 0, "weekly", 0, "end") in found
    assert ("services", 0, "weekly", 1, "breaks", 0) in found  # starts before its hours
    assert ("services", 0, "weekly", 1, "breaks", 2) in found  # overlaps another break
    assert ("services", 0, "weekly", 3) in found
    assert ("services", 0, "overrides", 1, "date") in found
    assert ("services", 1, "weekly", 0) in found
    assert ("services", 2, "service_id") in found


def test_an_override_that_crosses_another_service_is_refused() -> None:
    day = date(2030, 1, 7)  # a Monday
    a = Availability(
        services=(
            ServiceHours(A, weekly=(WeeklyHours(0, OpenHours(Span(540, 600))),)),
            ServiceHours(B, overrides=(DateOverride(day, (OpenHours(Span(570, 630)),)),)),
        )
    )
    assert locs(a) == [("services", 1, "overrides", "hours")]


def slot(minutes: int, status: SlotStatus = SlotStatus.AVAILABLE, service: uuid.UUID = A) -> Slot:
    start = NOW + timedelta(minutes=minutes)
    return Slot(
        uuid.uuid4(),
        uuid.uuid4(),
        service,
        "x",
        start,
        start + timedelta(hours=1),
        1,
        "THB",
        status,
    )


def planned(minutes: int) -> PlannedSlot:
    start = NOW + timedelta(minutes=minutes)
    return PlannedSlot(start, start + timedelta(hours=1), A)


def test_plan_keeps_reopens_closes_deletes_and_skips() -> None:
    kept, closed, held, stale, unwanted, referenced = (
        slot(60),
        slot(120, SlotStatus.CLOSED),
        slot(180, SlotStatus.HELD),
        slot(240),
        slot(600),
        slot(900),
    )
    manual = slot(420, service=B)
    existing = [
        ExistingSlot(kept, True, False),
        ExistingSlot(closed, True, True),
        ExistingSlot(held, True, True),
        ExistingSlot(stale, True, False),
        ExistingSlot(unwanted, True, False),
        ExistingSlot(referenced, True, True),
        ExistingSlot(manual, False, False),
    ]
    desired = [planned(60), planned(120), planned(270), planned(400), planned(1200)]
    changes = plan(desired, existing, now=NOW)
    assert changes.reopen == [closed.id]
    assert changes.delete == [stale.id]  # in the way of 04:30, free, never referenced
    assert sorted(changes.close) == sorted([unwanted.id, referenced.id])
    assert changes.insert == [planned(270), planned(1200)]
    assert changes.skipped == [planned(400)]  # overlaps the slot added by hand
    again = plan(desired[:2], [ExistingSlot(kept, True, False)], now=NOW)
    assert again.insert == [planned(120)]
    assert (again.close, again.delete, again.reopen) == ([], [], [])


def test_the_stored_form_reads_back_as_written() -> None:
    from slotbook.adapters.db.repos.availability import decode, encode

    a = Availability(
        services=(
            ServiceHours(
                A,
                weekly=(WeeklyHours(6, OpenHours(Span(0, 1440), (Span(720, 780),))),),
                overrides=(DateOverride(date(2030, 2, 1)),),
            ),
        ),
        days_off=frozenset({date(2030, 3, 1), date(2030, 1, 1)}),
    )
    assert decode(encode(a)) == a
    assert decode(encode(Availability())) == Availability()
