"""One customer's concurrent POST /v1/holds over HTTP (in-process app, SQLite and
PostgreSQL): a double click gets one hold, and a "retry shortly" is never replayed."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from slotbook.adapters.clock import ManualClock
from slotbook.api.app import create_app
from slotbook.bootstrap import build_context, close_context
from slotbook.config import Settings
from slotbook.service_layer.context import Context
from tests import builders
from tests.conftest import START
from tests.e2e.http_helpers import assert_problem, bearer, sign_up

DAY = START + timedelta(days=1)
TURN_WAIT_SECONDS = 0.001


async def test_a_double_click_gets_one_201_and_one_200_with_the_same_hold(
    client: httpx.AsyncClient, ctx: Context
) -> None:
    _, (slot,) = await builders.provider_with_slots(ctx, first=DAY, count=1)
    alice = await sign_up(client)
    headers = bearer(alice["access_token"])
    answers = await asyncio.gather(
        *(client.post("/v1/holds", json={"slot_id": str(slot.id)}, headers=headers) for _ in "ab")
    )
    assert sorted(a.status_code for a in answers) == [200, 201], [a.text for a in answers]
    assert answers[0].json()["id"] == answers[1].json()["id"]


@pytest.fixture
async def impatient(settings: Settings, clock: ManualClock) -> AsyncIterator[Context]:
    """A context whose requests wait next to no time for their customer's turn."""
    ctx = await build_context(
        settings.model_copy(update={"db_pool_timeout_seconds": TURN_WAIT_SECONDS}), clock=clock
    )
    yield ctx
    await close_context(ctx)


async def test_a_hold_that_cannot_get_its_turn_answers_409_retry_and_is_not_replayed(
    impatient: Context,
) -> None:
    _, (slot,) = await builders.provider_with_slots(impatient, first=DAY, count=1)
    app = create_app(context=impatient, run_sweeper_in_process=False)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        alice = await sign_up(client)
        headers = {**bearer(alice["access_token"]), "Idempotency-Key": "one-click"}
        body = {"slot_id": str(slot.id)}
        customer = uuid.UUID(alice["user"]["id"])
        await impatient.hold_turns.take(customer, wait_seconds=1)  # another hold in flight
        try:
            refused = await client.post("/v1/holds", json=body, headers=headers)
        finally:
            impatient.hold_turns.done(customer)
        assert_problem(refused, 409, "/hold-contended")
        assert refused.headers["retry-after"] == "1"
        retried = await client.post("/v1/holds", json=body, headers=headers)
        assert retried.status_code == 201, retried.text
