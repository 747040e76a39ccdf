"""A burst of refusals of one slot shares one look-up of its alternatives."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from slotbook.adapters.clock import ManualClock
from slotbook.domain.suggestions import Suggestion
from slotbook.service_layer.recent_alternatives import RecentAlternatives
from tests.unit.test_recent_alternatives import offers


class _Finder:
    """A look-up that answers only when released, counting how often it was asked."""

    def __init__(self, found: list[Suggestion]) -> None:
        self.found = found
        self.calls = 0
        self.release = asyncio.Event()
        self.error: Exception | None = None

    async def __call__(self) -> list[Suggestion]:
        self.calls += 1
        await self.release.wait()
        if self.error is not None:
            raise self.error
        return self.found


async def _turns(n: int = 3) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


async def test_refusals_at_one_moment_share_one_look_up_then_the_remembered_list() -> None:
    clock, slot = ManualClock(), uuid.uuid4()
    recent = RecentAlternatives(ttl_seconds=1.0)
    find = _Finder(offers(clock) + offers(clock))
    waiting = [asyncio.create_task(recent.get_or_find(slot, clock.now(), find)) for _ in range(20)]
    await _turns()
    find.release.set()
    answers = await asyncio.gather(*waiting)
    assert find.calls == 1
    assert all(a == find.found for a in answers)
    assert await recent.get_or_find(slot, clock.now(), find) == find.found
    assert find.calls == 1


async def test_a_slot_granted_while_the_look_up_runs_is_not_offered() -> None:
    clock, slot = ManualClock(), uuid.uuid4()
    recent = RecentAlternatives(ttl_seconds=1.0)
    find = _Finder(offers(clock) + offers(clock))
    taken, kept = find.found
    waiting = asyncio.create_task(recent.get_or_find(slot, clock.now(), find))
    await _turns(1)  # the look-up is scheduled and has not started yet
    assert find.calls == 0
    recent.withdraw(taken.slot_id)
    await _turns()
    find.release.set()
    assert await waiting == [kept]
    assert recent.get(slot, clock.now()) == [kept]


async def test_a_caller_gone_does_not_stop_the_look_up_the_others_wait_on() -> None:
    clock, slot = ManualClock(), uuid.uuid4()
    recent = RecentAlternatives(ttl_seconds=1.0)
    find = _Finder(offers(clock))
    first = asyncio.create_task(recent.get_or_find(slot, clock.now(), find))
    second = asyncio.create_task(recent.get_or_find(slot, clock.now(), find))
    await _turns()
    first.cancel()
    await _turns()
    find.release.set()
    assert await second == find.found
    assert first.cancelled()


async def test_a_failed_look_up_fails_its_waiters_and_the_next_refusal_looks_again() -> None:
    clock, slot = ManualClock(), uuid.uuid4()
    recent = RecentAlternatives(ttl_seconds=1.0)
    find = _Finder(offers(clock))
    find.error = ConnectionError("database gone")
    waiting = [asyncio.create_task(recent.get_or_find(slot, clock.now(), find)) for _ in range(3)]
    await _turns()
    find.release.set()
    for task in waiting:
        with pytest.raises(ConnectionError):
            await task
    find.error = None
    assert await recent.get_or_find(slot, clock.now(), find) == find.found
    assert find.calls == 2


async def test_with_remembering_off_every_refusal_looks_for_itself() -> None:
    clock, slot = ManualClock(), uuid.uuid4()
    recent = RecentAlternatives(ttl_seconds=0)
    find = _Finder(offers(clock))
    find.release.set()
    for _ in range(3):
        assert await recent.get_or_find(slot, clock.now(), find) == find.found
    assert find.calls == 3
