"""POST/GET/DELETE /v1/holds over HTTP (in-process app, real SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest

from slotbook.adapters.clock import ManualClock
from slotbook.service_layer.context import Context
from tests import builders
from tests.conftest import START
from tests.e2e.booking import KINDS, SUGGESTION_KEYS
from tests.e2e.http_helpers import assert_problem, bearer, count_rows, sign_up

DAY = START + timedelta(days=1)


@pytest.fixture
async def slot_ids(ctx: Context) -> list[str]:
    _, slots = await builders.provider_with_slots(ctx, first=DAY, count=4)
    await builders.provider_with_slots(ctx, first=DAY, count=2)
    return [str(s.id) for s in slots]


async def test_hold_lifecycle(client: httpx.AsyncClient, slot_ids: list[str]) -> None:
    alice = await sign_up(client)
    headers = bearer(alice["access_token"])
    created = await client.post("/v1/holds", json={"slot_id": slot_ids[0]}, headers=headers)
    assert created.status_code == 201
    hold = created.json()
    assert hold["status"] == "active"
    assert hold["release_reason"] is None
    assert hold["customer_id"] == alice["user"]["id"]
    assert hold["created_at"] == "2030-01-01T08:00:00Z"
    assert hold["expires_at"] == "2030-01-01T08:10:00Z"
    assert hold["payments"] == []
    assert hold["booking_id"] is None
    assert hold["amount_minor"] == 45_000
    assert hold["currency"] == "THB"

    same = await client.post("/v1/holds", json={"slot_id": slot_ids[0]}, headers=headers)
    assert same.status_code == 200
    assert same.json()["id"] == hold["id"]
    slot = (await client.get(f"/v1/slots/{slot_ids[0]}")).json()
    assert slot["status"] == "held"

    read = await client.get(f"/v1/holds/{hold['id']}", headers=headers)
    assert read.status_code == 200
    assert read.json() == hold
    cancelled = await client.delete(f"/v1/holds/{hold['id']}", headers=headers)
    assert cancelled.status_code == 200
    assert (cancelled.json()["status"], cancelled.json()["release_reason"]) == (
        "released",
        "cancelled",
    )
    assert (await client.get(f"/v1/slots/{slot_ids[0]}")).json()["status"] == "available"


async def test_a_taken_slot_answers_409_with_suggestions(
    client: httpx.AsyncClient, slot_ids: list[str]
) -> None:
    alice, bob = await sign_up(client), await sign_up(client)
    await client.post(
        "/v1/holds", json={"slot_id": slot_ids[0]}, headers=bearer(alice["access_token"])
    )
    refused = await client.post(
        "/v1/holds", json={"slot_id": slot_ids[0]}, headers=bearer(bob["access_token"])
    )
    body = assert_problem(refused, 409, "/slot-unavailable")
    assert body["slot_id"] == slot_ids[0]
    assert 1 <= len(body["suggestions"]) <= 5
    first = body["suggestions"][0]
    assert set(first) == SUGGESTION_KEYS
    assert {s["kind"] for s in body["suggestions"]} == KINDS


async def test_ttl_expiry_over_http(
    client: httpx.AsyncClient, slot_ids: list[str], clock: ManualClock
) -> None:
    alice, bob = await sign_up(client), await sign_up(client)
    hold = (
        await client.post(
            "/v1/holds", json={"slot_id": slot_ids[1]}, headers=bearer(alice["access_token"])
        )
    ).json()
    clock.advance(600)
    assert (await client.get(f"/v1/slots/{slot_ids[1]}")).json()["status"] == "available"
    taken = await client.post(
        "/v1/holds", json={"slot_id": slot_ids[1]}, headers=bearer(bob["access_token"])
    )
    assert taken.status_code == 201
    old = (
        await client.get(f"/v1/holds/{hold['id']}", headers=bearer(alice["access_token"]))
    ).json()
    assert (old["status"], old["release_reason"]) == ("released", "expired")


async def test_tenancy_another_customers_hold_is_404(
    client: httpx.AsyncClient, slot_ids: list[str]
) -> None:
    alice, mallory = await sign_up(client), await sign_up(client)
    hold = (
        await client.post(
            "/v1/holds", json={"slot_id": slot_ids[0]}, headers=bearer(alice["access_token"])
        )
    ).json()
    spy = bearer(mallory["access_token"])
    assert_problem(await client.get(f"/v1/holds/{hold['id']}", headers=spy), 404)
    assert_problem(await client.delete(f"/v1/holds/{hold['id']}", headers=spy), 404)
    mine = await client.get(f"/v1/holds/{hold['id']}", headers=bearer(alice["access_token"]))
    assert mine.json()["status"] == "active"


@pytest.mark.parametrize(
    ("body", "content"),
    [
        (b"{not json", "application/json"),
        (b'{"slot_id": 42}', "application/json"),
        (b'{"slot_id": "not-a-uuid"}', "application/json"),
        (b"{}", "application/json"),
        (b'{"slot_id": "%s", "extra": 1}', "application/json"),
        (b"[]", "application/json"),
    ],
)
async def test_bad_bodies_answer_422_and_write_nothing(
    client: httpx.AsyncClient, ctx: Context, slot_ids: list[str], body: bytes, content: str
) -> None:
    alice = await sign_up(client)
    before = await count_rows(ctx, "holds")
    answer = await client.post(
        "/v1/holds",
        content=body.replace(b"%s", slot_ids[0].encode()),
        headers={**bearer(alice["access_token"]), "content-type": content},
    )
    problem = assert_problem(answer, 422, "/validation-error")
    assert problem["errors"]
    assert await count_rows(ctx, "holds") == before


@pytest.mark.parametrize(
    ("body", "locs"),
    [
        (b"{not json", [["body"]]),
        (b"[]", [["body"]]),
        (b"{}", [["body", "slot_id"]]),
        (b'{"slot_id": 42, "extra": 1}', [["body", "slot_id"], ["body", "extra"]]),
    ],
)
async def test_a_bad_body_is_located_from_body_as_on_every_route(
    client: httpx.AsyncClient, body: bytes, locs: list[list[str]]
) -> None:
    alice = await sign_up(client)
    answer = await client.post(
        "/v1/holds",
        content=body,
        headers={**bearer(alice["access_token"]), "content-type": "application/json"},
    )
    problem = assert_problem(answer, 422, "/validation-error")
    assert [e["loc"] for e in problem["errors"]] == locs


async def test_unknown_and_past_slots(
    client: httpx.AsyncClient, ctx: Context, slot_ids: list[str], clock: ManualClock
) -> None:
    alice = await sign_up(client)
    headers = bearer(alice["access_token"])
    unknown = await client.post("/v1/holds", json={"slot_id": str(uuid.uuid4())}, headers=headers)
    assert_problem(unknown, 404, "/slot-not-found")
    clock.set(DAY + timedelta(minutes=1))
    late = await sign_up(client)
    past = await client.post(
        "/v1/holds", json={"slot_id": slot_ids[0]}, headers=bearer(late["access_token"])
    )
    assert "started" in assert_problem(past, 409, "/slot-unavailable")["detail"]
    assert await count_rows(ctx, "holds") == 0


async def test_tokens_and_roles(
    client: httpx.AsyncClient, ctx: Context, slot_ids: list[str], clock: ManualClock
) -> None:
    body = {"slot_id": slot_ids[0]}
    assert_problem(await client.post("/v1/holds", json=body), 401, "/invalid-token")
    garbage = await client.post("/v1/holds", json=body, headers=bearer("not.a.token"))
    assert_problem(garbage, 401, "/invalid-token")
    basic = await client.post("/v1/holds", json=body, headers={"Authorization": "Basic abc"})
    assert_problem(basic, 401)
    provider = await sign_up(client, role="provider")
    assert_problem(
        await client.post("/v1/holds", json=body, headers=bearer(provider["access_token"])), 403
    )
    alice = await sign_up(client)
    clock.advance(3600)
    expired = await client.post("/v1/holds", json=body, headers=bearer(alice["access_token"]))
    assert_problem(expired, 401, "/invalid-token")
    assert await count_rows(ctx, "holds") == 0


async def test_idempotency_key_replays_and_refuses_a_different_body(
    client: httpx.AsyncClient, ctx: Context, slot_ids: list[str]
) -> None:
    alice, bob = await sign_up(client), await sign_up(client)
    headers = {**bearer(alice["access_token"]), "Idempotency-Key": "k-1"}
    first = await client.post("/v1/holds", json={"slot_id": slot_ids[0]}, headers=headers)
    replay = await client.post("/v1/holds", json={"slot_id": slot_ids[0]}, headers=headers)
    assert first.status_code == replay.status_code == 201
    assert first.json() == replay.json()
    other = await client.post("/v1/holds", json={"slot_id": slot_ids[1]}, headers=headers)
    assert_problem(other, 422, "/idempotency-key-reused")
    assert await count_rows(ctx, "holds") == 1

    refused_headers = {**bearer(bob["access_token"]), "Idempotency-Key": "k-1"}
    refused = await client.post("/v1/holds", json={"slot_id": slot_ids[0]}, headers=refused_headers)
    assert_problem(refused, 409, "/slot-unavailable")
    await client.delete(f"/v1/holds/{first.json()['id']}", headers=bearer(alice["access_token"]))
    replayed = await client.post(
        "/v1/holds", json={"slot_id": slot_ids[0]}, headers=refused_headers
    )
    replayed_body = assert_problem(replayed, 409, "/slot-unavailable")  # this request's id
    assert {**replayed_body, "request_id": refused.json()["request_id"]} == refused.json()
