"""A token whose account no longer exists opens nothing: POST /v1/holds answers 401.

The granted path does not look the user up (the hold's foreign key does it); a refusal
checks before it explains, so a deleted account never reads as a 409 or a 404.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import delete

from slotbook.adapters.db.tables import users
from slotbook.domain.states import SlotStatus
from slotbook.service_layer import catalog, holds
from slotbook.service_layer.context import Context
from tests import builders
from tests.conftest import START
from tests.e2e.http_helpers import assert_problem, bearer, count_rows, sign_up

DAY = START + timedelta(days=1)
GONE = "the account no longer exists"


@pytest.fixture
async def slot_id(ctx: Context) -> uuid.UUID:
    _, (slot, *_) = await builders.provider_with_slots(ctx, first=DAY, count=1)
    return slot.id


async def deleted_customer_headers(client: httpx.AsyncClient, ctx: Context) -> dict[str, str]:
    signed = await sign_up(client)
    async with ctx.db.write() as conn:
        await conn.execute(delete(users).where(users.c.id == uuid.UUID(signed["user"]["id"])))
    return bearer(signed["access_token"])


async def test_a_deleted_accounts_token_cannot_take_a_free_slot(
    client: httpx.AsyncClient, ctx: Context, slot_id: uuid.UUID
) -> None:
    headers = await deleted_customer_headers(client, ctx)
    answer = await client.post("/v1/holds", json={"slot_id": str(slot_id)}, headers=headers)
    assert assert_problem(answer, 401, "/invalid-token")["detail"] == GONE
    assert await count_rows(ctx, "holds") == 0
    assert (await catalog.get_slot(ctx, slot_id=slot_id)).status is SlotStatus.AVAILABLE


async def test_a_deleted_accounts_token_on_a_held_slot_answers_401_not_409(
    client: httpx.AsyncClient, ctx: Context, slot_id: uuid.UUID
) -> None:
    alice = await builders.customer(ctx)
    await holds.place_hold(ctx, slot_id=slot_id, customer_id=alice.id)
    headers = await deleted_customer_headers(client, ctx)
    answer = await client.post("/v1/holds", json={"slot_id": str(slot_id)}, headers=headers)
    assert assert_problem(answer, 401, "/invalid-token")["detail"] == GONE


async def test_a_deleted_accounts_token_on_an_unknown_slot_answers_401_not_404(
    client: httpx.AsyncClient, ctx: Context
) -> None:
    headers = await deleted_customer_headers(client, ctx)
    answer = await client.post("/v1/holds", json={"slot_id": str(uuid.uuid4())}, headers=headers)
    assert assert_problem(answer, 401, "/invalid-token")["detail"] == GONE
