"""Saved bookings (the booking queue) over HTTP: save without locking, list with the slots'
live status, check out as POST /v1/holds answers, delete; tenancy and Idempotency-Key."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest

from slotbook.adapters.clock import ManualClock
from slotbook.service_layer.context import Context
from tests import builders
from tests.conftest import START
from tests.e2e.booking import SUGGESTION_KEYS
from tests.e2e.http_helpers import assert_problem, bearer, count_rows, sign_up

DAY = START + timedelta(days=1)
SAVED_KEYS = {"id", "slot_id", "note", "created_at", "slot"}


@pytest.fixture
async def slot_ids(ctx: Context) -> list[str]:
    _, slots = await builders.provider_with_slots(ctx, first=DAY, count=3)
    await builders.provider_with_slots(ctx, first=DAY, count=2)
    return [str(s.id) for s in slots]


async def customer_headers(client: httpx.AsyncClient) -> dict[str, str]:
    return bearer((await sign_up(client))["access_token"])


async def save(
    client: httpx.AsyncClient, headers: dict[str, str], slot_id: str, **extra: Any
) -> httpx.Response:
    return await client.post(
        "/v1/saved-bookings", json={"slot_id": slot_id, **extra}, headers=headers
    )


async def test_save_list_checkout_delete(
    client: httpx.AsyncClient, ctx: Context, slot_ids: list[str]
) -> None:
    headers = await customer_headers(client)
    created = await save(client, headers, slot_ids[0], note="  after work  ")
    assert created.status_code == 201, created.text
    saved = created.json()
    assert set(saved) == SAVED_KEYS
    assert (saved["slot_id"], saved["note"]) == (slot_ids[0], "after work")
    assert saved["created_at"] == "2030-01-01T08:00:00Z"
    assert saved["slot"]["status"] == "available"
    assert await count_rows(ctx, "holds") == 0  # saving locks nothing
    again = await save(client, headers, slot_ids[0], note="other")
    assert again.status_code == 200
    assert again.json() == saved
    await save(client, headers, slot_ids[1])

    listed = await client.get("/v1/saved-bookings", headers=headers)
    assert listed.status_code == 200
    assert [s["slot_id"] for s in listed.json()["saved_bookings"]] == slot_ids[:2]

    hold = await client.post(f"/v1/saved-bookings/{saved['id']}/checkout", headers=headers)
    assert hold.status_code == 201, hold.text
    assert (hold.json()["slot_id"], hold.json()["status"]) == (slot_ids[0], "active")
    same = await client.post(f"/v1/saved-bookings/{saved['id']}/checkout", headers=headers)
    assert (same.status_code, same.json()["id"]) == (200, hold.json()["id"])
    listed = (await client.get("/v1/saved-bookings", headers=headers)).json()
    assert listed["saved_bookings"][0]["slot"]["status"] == "held"  # live status

    deleted = await client.delete(f"/v1/saved-bookings/{saved['id']}", headers=headers)
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert_problem(await client.delete(f"/v1/saved-bookings/{saved['id']}", headers=headers), 404)
    listed = (await client.get("/v1/saved-bookings", headers=headers)).json()
    assert [s["slot_id"] for s in listed["saved_bookings"]] == [slot_ids[1]]
    # deleting the saved booking left the hold alone
    read = await client.get(f"/v1/holds/{hold.json()['id']}", headers=headers)
    assert read.json()["status"] == "active"


async def test_checkout_of_a_taken_slot_is_a_409_with_suggestions(
    client: httpx.AsyncClient, slot_ids: list[str]
) -> None:
    alice, bob = await customer_headers(client), await customer_headers(client)
    saved = (await save(client, alice, slot_ids[0])).json()
    taken = await client.post("/v1/holds", json={"slot_id": slot_ids[0]}, headers=bob)
    assert taken.status_code == 201
    refused = await client.post(f"/v1/saved-bookings/{saved['id']}/checkout", headers=alice)
    body = assert_problem(refused, 409, "/slot-unavailable")
    assert body["slot_id"] == slot_ids[0]
    assert body["suggestions"]
    assert all(set(s) == SUGGESTION_KEYS for s in body["suggestions"])
    direct = assert_problem(
        await client.post("/v1/holds", json={"slot_id": slot_ids[0]}, headers=alice), 409
    )
    assert body["suggestions"] == direct["suggestions"]
    assert body["detail"] == direct["detail"]
    listed = (await client.get("/v1/saved-bookings", headers=alice)).json()
    assert listed["saved_bookings"][0]["slot"]["status"] == "held"


async def test_another_customers_saved_booking_is_not_found(
    client: httpx.AsyncClient, ctx: Context, slot_ids: list[str]
) -> None:
    alice, bob = await customer_headers(client), await customer_headers(client)
    saved = (await save(client, alice, slot_ids[0])).json()
    path = f"/v1/saved-bookings/{saved['id']}"
    assert_problem(await client.get(path, headers=bob), 404, "/saved-booking-not-found")
    assert_problem(await client.post(f"{path}/checkout", headers=bob), 404)
    assert_problem(await client.delete(path, headers=bob), 404)
    assert (await client.get("/v1/saved-bookings", headers=bob)).json() == {"saved_bookings": []}
    assert await count_rows(ctx, "holds") == 0
    assert (await client.get(path, headers=alice)).status_code == 200


async def test_roles_tokens_and_bad_input(
    client: httpx.AsyncClient, ctx: Context, clock: ManualClock, slot_ids: list[str]
) -> None:
    headers = await customer_headers(client)
    provider = bearer((await sign_up(client, "provider"))["access_token"])
    assert_problem(await save(client, provider, slot_ids[0]), 403)
    assert_problem(await client.get("/v1/saved-bookings"), 401)
    assert_problem(await save(client, headers, str(uuid.uuid4())), 404, "/slot-not-found")
    assert_problem(await save(client, headers, "nope"), 422)
    assert_problem(await save(client, headers, slot_ids[0], note="x" * 501), 422)
    assert_problem(await save(client, headers, slot_ids[0], extra=1), 422)
    assert_problem(await client.post("/v1/saved-bookings/nope/checkout", headers=headers), 422)
    unknown = f"/v1/saved-bookings/{uuid.uuid4()}/checkout"
    assert_problem(await client.post(unknown, headers=headers), 404)
    assert await count_rows(ctx, "saved_bookings") == 0
    _, soon = await builders.provider_with_slots(ctx, first=START + timedelta(minutes=30), count=1)
    clock.advance(30 * 60)
    assert_problem(await save(client, headers, str(soon[0].id)), 409, "/slot-started")
    assert await count_rows(ctx, "saved_bookings") == 0


async def test_idempotency_key_replays_save_and_checkout(
    client: httpx.AsyncClient, ctx: Context, slot_ids: list[str]
) -> None:
    headers = await customer_headers(client)
    keyed = {**headers, "Idempotency-Key": "save-1"}
    first = await save(client, keyed, slot_ids[0])
    replay = await save(client, keyed, slot_ids[0])
    assert (first.status_code, replay.status_code) == (201, 201)
    assert replay.json() == first.json()
    assert_problem(await save(client, keyed, slot_ids[1]), 422, "/idempotency-key-reused")
    assert await count_rows(ctx, "saved_bookings") == 1

    saved_id = first.json()["id"]
    other_id = (await save(client, headers, slot_ids[1])).json()["id"]
    path = f"/v1/saved-bookings/{saved_id}/checkout"
    checkout_key = {**headers, "Idempotency-Key": "checkout-1"}
    held = await client.post(path, headers=checkout_key)
    again = await client.post(path, headers=checkout_key)
    assert (held.status_code, again.status_code) == (201, 201)
    assert again.content == held.content
    other = await client.post(f"/v1/saved-bookings/{other_id}/checkout", headers=checkout_key)
    assert_problem(other, 422, "/idempotency-key-reused")
    assert await count_rows(ctx, "holds") == 1
