"""Alternatives offered for a refused slot, remembered for a moment.

A popular slot refuses hundreds of customers a second, and every one of them may be
offered the same list: it is read once per process and per `ttl`, not once per refusal.
A suggestion is an offer, not a promise (taking it is a hold like any other), so a list up
to `ttl` old is fine, except for what this process knows better: a slot it has just
granted a hold on is dropped from every list at once (`withdraw`), found through an index
from each offered slot to the lists that offer it, so a grant never scans the lists.

A burst of refusals of one slot comes all at once, before any list is remembered: they
share one look-up (`get_or_find`) instead of each sending its own, and a slot granted
while that look-up runs is left out of what it found.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from uuid import UUID

from slotbook.domain.suggestions import Suggestion


class RecentAlternatives:
    def __init__(self, *, ttl_seconds: float, max_entries: int = 10_000) -> None:
        self._ttl = timedelta(seconds=ttl_seconds)
        self._max_entries = max_entries
        self._entries: dict[UUID, tuple[datetime, list[Suggestion]]] = {}
        self._offered_for: dict[UUID, set[UUID]] = {}  # offered slot -> targets offering it
        self._finding: dict[UUID, asyncio.Future[list[Suggestion]]] = {}
        self._granted_meanwhile: dict[UUID, set[UUID]] = {}  # target -> withdrawn during find

    async def get_or_find(
        self,
        slot_id: UUID,
        now: datetime,
        find: Callable[[], Awaitable[list[Suggestion]]],
    ) -> list[Suggestion]:
        """The list remembered for the slot, else the one `find` gives (then remembered);
        callers asking while a find for the slot runs share it."""
        offers = self.get(slot_id, now)
        if offers is not None:
            return offers
        if not self._ttl:
            return await find()
        finding = self._finding.get(slot_id)
        if finding is None:
            granted = self._granted_meanwhile[slot_id] = set()
            finding = asyncio.ensure_future(self._find_and_put(slot_id, now, find, granted))
            finding.add_done_callback(_seen)  # its error is theirs, even with no one left
            self._finding[slot_id] = finding
        # a caller that goes away does not stop the find the others wait on
        return await asyncio.shield(finding)

    async def _find_and_put(
        self,
        slot_id: UUID,
        now: datetime,
        find: Callable[[], Awaitable[list[Suggestion]]],
        granted: set[UUID],
    ) -> list[Suggestion]:
        try:
            offers = [o for o in await find() if o.slot_id not in granted]
            self.put(slot_id, now, offers)
            return offers
        finally:
            del self._finding[slot_id], self._granted_meanwhile[slot_id]

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
        """The slot was just held: no remembered list offers it any more, nor will a list
        being found now."""
        for granted in self._granted_meanwhile.values():
            granted.add(slot_id)
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


def _seen(finding: asyncio.Future[list[Suggestion]]) -> None:
    if not finding.cancelled():
        finding.exception()
