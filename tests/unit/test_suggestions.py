"""Suggestion ranking: nearest in time first, distinct, at most the limit."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from slotbook.domain.suggestions import Suggestion, SuggestionKind, rank_suggestions

TARGET = datetime(2030, 1, 1, 10, 0, tzinfo=UTC)


def offer(minutes: int, kind: SuggestionKind = SuggestionKind.SAME_PROVIDER) -> Suggestion:
    start = TARGET + timedelta(minutes=minutes)
    return Suggestion(
        slot_id=uuid.uuid4(),
        provider_id=uuid.uuid4(),
        service_id=uuid.uuid4(),
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        price_minor=1000,
        currency="THB",
        kind=kind,
    )


def test_nearest_in_time_first_on_either_side() -> None:
    far_after, near_before, near_after, far_before = offer(300), offer(-60), offer(90), offer(-600)
    ranked = rank_suggestions(TARGET, [far_after, near_before, near_after, far_before], limit=5)
    assert ranked == [near_before, near_after, far_after, far_before]


def test_same_distance_prefers_the_same_provider() -> None:
    other = offer(60, SuggestionKind.OTHER_PROVIDER)
    same = offer(-60, SuggestionKind.SAME_PROVIDER)
    assert rank_suggestions(TARGET, [other, same]) == [same, other]


def test_at_most_the_limit_and_no_duplicates() -> None:
    one = offer(30)
    ranked = rank_suggestions(TARGET, [one, one, *[offer(m) for m in range(60, 600, 60)]], limit=5)
    assert len(ranked) == 5
    assert ranked[0] == one
    assert len({s.slot_id for s in ranked}) == 5


def test_no_candidates_no_suggestions() -> None:
    assert rank_suggestions(TARGET, []) == []


@given(st.lists(st.integers(min_value=-20_000, max_value=20_000), max_size=30))
def test_ranking_is_sorted_by_distance(minutes: list[int]) -> None:
    ranked = rank_suggestions(TARGET, [offer(m) for m in minutes], limit=5)
    distances = [abs((s.starts_at - TARGET).total_seconds()) for s in ranked]
    assert distances == sorted(distances)
    assert len(ranked) == min(5, len(minutes))
    everything = sorted(abs(m) * 60 for m in minutes)
    assert distances == everything[: len(ranked)]
