"""Turns: one holder per key at a time, in arrival order, with a bounded wait."""

from __future__ import annotations

import asyncio

import pytest

from slotbook.service_layer.turns import Turns

WAIT = 5.0


async def test_a_second_taker_of_a_key_waits_for_the_first_to_be_done() -> None:
    turns: Turns[str] = Turns()
    await turns.take("alice", wait_seconds=WAIT)
    second = asyncio.create_task(turns.take("alice", wait_seconds=WAIT))
    await asyncio.sleep(0)
    assert not second.done()
    turns.done("alice")
    await second
    turns.done("alice")


async def test_different_keys_do_not_wait_for_each_other() -> None:
    turns: Turns[str] = Turns()
    await turns.take("alice", wait_seconds=WAIT)
    await asyncio.wait_for(turns.take("bob", wait_seconds=WAIT), timeout=WAIT)
    turns.done("bob")
    turns.done("alice")


async def test_waiters_get_their_turn_in_arrival_order() -> None:
    turns: Turns[str] = Turns()
    order: list[int] = []

    async def one(i: int) -> None:
        await turns.take("alice", wait_seconds=WAIT)
        order.append(i)
        await asyncio.sleep(0)
        turns.done("alice")

    await asyncio.gather(*(one(i) for i in range(5)))
    assert order == [0, 1, 2, 3, 4]


async def test_a_wait_past_its_bound_raises_timeout_and_leaves_the_queue() -> None:
    turns: Turns[str] = Turns()
    await turns.take("alice", wait_seconds=WAIT)
    with pytest.raises(TimeoutError):
        await turns.take("alice", wait_seconds=0)
    turns.done("alice")
    assert len(turns) == 0


async def test_a_cancelled_waiter_does_not_keep_the_turn() -> None:
    turns: Turns[str] = Turns()
    await turns.take("alice", wait_seconds=WAIT)
    waiter = asyncio.create_task(turns.take("alice", wait_seconds=WAIT))
    await asyncio.sleep(0)
    turns.done("alice")  # handed to the waiter ...
    waiter.cancel()  # ... which is cancelled before it runs again
    with pytest.raises(asyncio.CancelledError):
        await waiter
    await asyncio.wait_for(turns.take("alice", wait_seconds=WAIT), timeout=WAIT)
    turns.done("alice")
    assert len(turns) == 0


async def test_keys_are_forgotten_once_no_one_holds_or_waits() -> None:
    turns: Turns[str] = Turns()
    for key in ("alice", "bob"):
        await turns.take(key, wait_seconds=WAIT)
    assert len(turns) == 2
    turns.done("alice")
    turns.done("bob")
    assert len(turns) == 0
