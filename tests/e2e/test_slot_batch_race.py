"""One provider posting overlapping slot batches at once, in different orders: exactly one
batch is created, every other answers 409 slot-overlap, never a deadlock's 500."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import httpx

from slotbook.service_layer.context import Context
from tests.conftest import START
from tests.e2e.http_helpers import assert_problem, bearer, count_rows, sign_up
from tests.e2e.test_http_text_input import SERVICE

ROUNDS = 10
BATCHES = 4
SLOTS_PER_BATCH = 4


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def batches(first: datetime) -> list[list[str]]:
    """BATCHES batches of hour-long slots, each overlapping every other batch in every
    slot, each listed in a different order."""
    found = []
    for k in range(BATCHES):
        starts = [first + timedelta(hours=i, minutes=15 * k) for i in range(SLOTS_PER_BATCH)]
        ordered = starts if k % 2 == 0 else starts[::-1]
        ordered = ordered[k:] + ordered[:k]
        found.append([iso(t) for t in ordered])
    return found


async def test_overlapping_batches_at_once_create_exactly_one(
    client: httpx.AsyncClient, ctx: Context
) -> None:
    signed = await sign_up(client, role="provider")
    headers = bearer(signed["access_token"])
    service = await client.post("/v1/providers/me/services", json=SERVICE, headers=headers)
    service_id = service.json()["id"]

    for round_no in range(ROUNDS):
        first = START + timedelta(days=1 + round_no)
        answers = await asyncio.gather(
            *(
                client.post(
                    "/v1/providers/me/slots",
                    json={"service_id": service_id, "starts_at": starts},
                    headers=headers,
                )
                for starts in batches(first)
            )
        )
        statuses = sorted(a.status_code for a in answers)
        assert statuses == [201] + [409] * (BATCHES - 1), [a.text for a in answers]
        for refused in (a for a in answers if a.status_code == 409):
            assert_problem(refused, 409, "/slot-overlap")
    assert await count_rows(ctx, "slots") == ROUNDS * SLOTS_PER_BATCH
