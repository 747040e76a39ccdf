"""Alternatives offered for a refused slot, remembered for a moment.

A popular slot refuses hundreds of customers a second, and every one of them may be
offered the same list: it is read once per process and per `ttl`, not once per refusal.
A suggestion is an offer, not a promise (taking it is a hold like any other), so a list up
to `ttl` old is fine.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from slotbook.domain.suggestions import Suggestion


class RecentAlternatives:
    def __init__(self, *, ttl_seconds: float, max_entries: int = 10_000) -> None:
        self._ttl = timedelta(seconds=ttl_seconds)
        self._max_entries = max_entries
        self._entries: dict[UUID, tuple[datetime, list[Suggestion]]] = {}

    def get(self, slot_id: UUID, now: datetime) -> list[Suggestion] | None:
        """The list remembered for the slot, unless it is older than `ttl` at `now`."""
        entry = self._entries.get(slot_id)
        if entry is None or now >= entry[0] or now < entry[0] - self._ttl:
            return None
        return entry[1]

    def put(self, slot_id: UUID, now: datetime, offers: list[Suggestion]) -> None:
        if not self._ttl:
            return
        if len(self._entries) >= self._max_entries:
            self._entries.clear()
        self._entries[slot_id] = (now + self._ttl, offers)
