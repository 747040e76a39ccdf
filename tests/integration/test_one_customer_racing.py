"""One customer placing several holds at once: each answer is true, and one hold remains.

A customer's concurrent holds race each other for the one-active-hold-per-customer index.
They must never answer 500, nor claim "taken by another customer" for a free slot.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from slotbook.adapters.db.tables import holds as holds_table
from slotbook.service_layer import holds
from slotbook.service_layer.context import Context
from tests import builders
from tests.conftest import START

DAY = START + timedelta(days=1)
PARALLEL = 20
ROUNDS = 50


def outcome(answer: object) -> str:
    if isinstance(answer, holds.HoldPlaced):
        return "created" if answer.created else "same"
    return f"{type(answer).__name__}: {answer}"


async def test_parallel_holds_of_one_customer_on_free_slots_are_all_granted(
    ctx: Context,
) -> None:
    _, slots = await builders.provider_with_slots(ctx, first=DAY, count=2 * PARALLEL)
    alice = await builders.customer(ctx)
    for round_ in range(ROUNDS):
        # alternate halves: the other half was freed when this round superseded it
        batch = slots[PARALLEL * (round_ % 2) : PARALLEL * (round_ % 2 + 1)]
        answers = await asyncio.gather(
            *(holds.place_hold(ctx, slot_id=s.id, customer_id=alice.id) for s in batch),
            return_exceptions=True,
        )
        assert Counter(map(outcome, answers)) == Counter({"created": PARALLEL}), round_
        async with ctx.db.read() as conn:
            active = (
                await conn.execute(
                    select(holds_table.c.id).where(
                        holds_table.c.customer_id == alice.id, holds_table.c.status == "active"
                    )
                )
            ).all()
        assert len(active) == 1, round_
