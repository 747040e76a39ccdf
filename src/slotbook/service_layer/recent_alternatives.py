"""Alternatives offered for a refused slot, remembered for a moment.

A popular slot refuses hundreds of customers a second, and every one of them may be
offered the same list: it is read once per process and per `ttl`, not once per refusal.
A suggestion is an offer, not a promise (taking it is a hold like any other), so a list up
to `ttl` old is fine, except for what this process knows better: a slot it has just
granted a hold on is dropped from every list at once (`withdraw`), found through an index
from each offered slot to the lists that offer it, so a grant never scans the lists.
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
        self._offered_for: dict[UUID, set[UUID]] = {}  # offered slot -> targets offering it

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
            self._offered_for.clear()
        replaced = self._entries.get(slot_id)
        if replaced is not None:
            self._unindex(slot_id, replaced[1])
        self._entries[slot_id] = (now + self._ttl, offers)
        for offer in offers:
            self._offered_for.setdefault(offer.slot_id, set()).add(slot_id)

    def withdraw(self, slot_id: UUID) -> None:
        """The slot was just held: no remembered list offers it any more."""
        targets = self._offered_for.pop(slot_id, None)
        if targets is None:
            return
        for target in targets:
            until, offers = self._entries[target]
            self._entries[target] = (until, [o for o in offers if o.slot_id != slot_id])

    def _unindex(self, target: UUID, offers: list[Suggestion]) -> None:
        for offer in offers:
            targets = self._offered_for.get(offer.slot_id)
            if targets is not None:
                targets.discard(target)
                if not targets:
                    del self._offered_for[offer.slot_id]
