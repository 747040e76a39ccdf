"""Remembered alternatives expire by the injected clock."""

from __future__ import annotations

import uuid
from datetime import timedelta

from slotbook.adapters.clock import ManualClock
from slotbook.domain.suggestions import Suggestion, SuggestionKind
from slotbook.service_layer.recent_alternatives import RecentAlternatives


def offers(clock: ManualClock) -> list[Suggestion]:
    start = clock.now() + timedelta(days=1)
    return [
        Suggestion(
            slot_id=uuid.uuid4(),
            provider_id=uuid.uuid4(),
            service_id=uuid.uuid4(),
            starts_at=start,
            ends_at=start + timedelta(hours=1),
            price_minor=100,
            currency="THB",
            kind=SuggestionKind.SAME_PROVIDER,
        )
    ]


def test_remembered_for_the_ttl_only() -> None:
    clock, slot = ManualClock(), uuid.uuid4()
    recent = RecentAlternatives(ttl_seconds=1.0)
    assert recent.get(slot, clock.now()) is None
    listed = offers(clock)
    recent.put(slot, clock.now(), listed)
    assert recent.get(slot, clock.now()) == listed
    assert recent.get(uuid.uuid4(), clock.now()) is None
    clock.advance(0.999)
    assert recent.get(slot, clock.now()) == listed
    clock.advance(0.001)
    assert recent.get(slot, clock.now()) is None


def test_a_clock_set_back_does_not_revive_old_lists() -> None:
    clock, slot = ManualClock(), uuid.uuid4()
    recent = RecentAlternatives(ttl_seconds=1.0)
    recent.put(slot, clock.now(), offers(clock))
    clock.advance(-5)
    assert recent.get(slot, clock.now()) is None


def test_zero_ttl_remembers_nothing() -> None:
    clock, slot = ManualClock(), uuid.uuid4()
    off = RecentAlternatives(ttl_seconds=0)
    off.put(slot, clock.now(), offers(clock))
    assert off.get(slot, clock.now()) is None


def test_the_number_of_lists_is_bounded() -> None:
    clock = ManualClock()
    small = RecentAlternatives(ttl_seconds=1.0, max_entries=3)
    slots = [uuid.uuid4() for _ in range(4)]
    for s in slots:
        small.put(s, clock.now(), offers(clock))
    assert small.get(slots[0], clock.now()) is None
    assert small.get(slots[3], clock.now()) is not None


def test_a_slot_just_held_is_dropped_from_every_list_offering_it() -> None:
    clock = ManualClock()
    recent = RecentAlternatives(ttl_seconds=1.0)
    shared, own = offers(clock)[0], offers(clock)[0]
    first, second = uuid.uuid4(), uuid.uuid4()
    recent.put(first, clock.now(), [shared, own])
    recent.put(second, clock.now(), [shared])
    recent.withdraw(shared.slot_id)
    assert recent.get(first, clock.now()) == [own]
    assert recent.get(second, clock.now()) == []


def test_a_list_keeps_its_age_when_a_slot_is_dropped_from_it() -> None:
    clock, target = ManualClock(), uuid.uuid4()
    recent = RecentAlternatives(ttl_seconds=1.0)
    listed = offers(clock) + offers(clock)
    recent.put(target, clock.now(), listed)
    clock.advance(0.5)
    recent.withdraw(listed[0].slot_id)
    clock.advance(0.5)
    assert recent.get(target, clock.now()) is None


def test_a_list_handed_out_is_not_changed_by_a_later_withdrawal() -> None:
    clock, target = ManualClock(), uuid.uuid4()
    recent = RecentAlternatives(ttl_seconds=1.0)
    listed = offers(clock)
    recent.put(target, clock.now(), listed)
    handed = recent.get(target, clock.now())
    recent.withdraw(listed[0].slot_id)
    assert handed == listed
