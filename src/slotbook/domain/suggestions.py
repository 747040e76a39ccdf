"""Suggestions: the available alternatives offered with every refused hold."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID


class SuggestionKind(StrEnum):
    SAME_PROVIDER = "same_provider"
    OTHER_PROVIDER = "other_provider"


@dataclass(frozen=True, slots=True)
class Suggestion:
    slot_id: UUID
    provider_id: UUID
    service_id: UUID
    starts_at: datetime
    ends_at: datetime
    price_minor: int
    currency: str
    kind: SuggestionKind


def rank_suggestions(
    target_start: datetime, candidates: Iterable[Suggestion], *, limit: int = 5
) -> list[Suggestion]:
    """Up to `limit` distinct candidates, nearest in time to the target first.

    Ties go to the same provider, then to the earlier slot, then to the slot id, so the
    order is total and stable.
    """
    unique = {c.slot_id: c for c in candidates}.values()

    def key(c: Suggestion) -> tuple[float, int, datetime, str]:
        distance = abs((c.starts_at - target_start).total_seconds())
        return (distance, c.kind is not SuggestionKind.SAME_PROVIDER, c.starts_at, str(c.slot_id))

    return sorted(unique, key=key)[:limit]
