"""Password hashing runs a few at a time, off the event loop; a queue too long to wait
through answers overloaded, and a password is taken exactly as typed."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator

import pytest

from slotbook.adapters.security import Passwords
from slotbook.domain.errors import Overloaded

SLOW = {"time_cost": 3, "memory_kib": 65536}  # the default cost: ~0.1 s a hash
FAST = {"time_cost": 1, "memory_kib": 1024}


@pytest.fixture
async def two_at_a_time() -> AsyncIterator[Passwords]:
    passwords = Passwords(**FAST, concurrency=2, wait_seconds=60)
    yield passwords
    passwords.close()


async def test_a_burst_hashes_in_at_most_the_configured_number_of_threads(
    two_at_a_time: Passwords,
) -> None:
    hashes = await asyncio.gather(*(two_at_a_time.hash(f"password-{i}") for i in range(20)))
    assert len(set(hashes)) == 20
    hashing = [t for t in threading.enumerate() if t.name.startswith("argon2")]
    assert 1 <= len(hashing) <= 2


async def test_a_hash_verifies_only_the_same_password(two_at_a_time: Passwords) -> None:
    stored = await two_at_a_time.hash(" secret with spaces ")
    assert await two_at_a_time.verify(stored, " secret with spaces ")
    assert not await two_at_a_time.verify(stored, "secret with spaces")


async def test_an_unknown_user_is_refused_after_the_same_work(two_at_a_time: Passwords) -> None:
    assert not await two_at_a_time.verify(None, "whatever")


async def test_waiting_longer_than_allowed_for_a_turn_answers_overloaded() -> None:
    passwords = Passwords(**SLOW, concurrency=1, wait_seconds=0.01)
    try:
        results = await asyncio.gather(
            *(passwords.hash("password") for _ in range(3)), return_exceptions=True
        )
    finally:
        passwords.close()
    refused = [r for r in results if isinstance(r, Overloaded)]
    assert len(refused) == 2
    assert all(r.retry_after_seconds >= 1 for r in refused)
    assert isinstance(results[0], str)
