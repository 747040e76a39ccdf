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


def test_zero_ttl_remembers_nothing_and_the_size_is_bounded() -> None:
    clock = ManualClock()
    off = RecentAlternatives(ttl_seconds=0)
    slot = uuid.uuid4()
    off.put(slot, clock.now(), offers(clock))
    assert off.get(slot, clock.now()) is None
    small = RecentAlternatives(ttl_seconds=1.0, max_entries=3)
    slots = [uuid.uuid4() for _ in range(4)]
    for s in slots:
        small.put(s, clock.now(), offers(clock))
    assert small.get(slots[0], clock.now()) is None
    assert small.get(slots[3], clock.now()) is not None
