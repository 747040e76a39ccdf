"""Small helpers for driving the HTTP API in tests."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from slotbook.service_layer.context import Context


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def sign_up(client: httpx.AsyncClient, role: str = "customer") -> dict[str, Any]:
    body = {
        "email": f"{role}-{uuid.uuid4().hex[:8]}@example.com",
        "password": "password123",
        "name": f"A {role}",
        "role": role,
    }
    answer = await client.post("/v1/auth/signup", json=body)
    assert answer.status_code == 201, answer.text
    signed: dict[str, Any] = answer.json()
    return signed


async def massage_slots(
    client: httpx.AsyncClient, provider: dict[str, str], starts: list[str], price_minor: int
) -> list[str]:
    """A new one-hour massage service of the provider's, in THB, with slots at `starts`:
    their ids."""
    service = await client.post(
        "/v1/providers/me/services",
        json={
            "name": "Thai massage",
            "category": "massage",
            "duration_minutes": 60,
            "price_minor": price_minor,
            "currency": "THB",
        },
        headers=provider,
    )
    assert service.status_code == 201, service.text
    created = await client.post(
        "/v1/providers/me/slots",
        json={"service_id": service.json()["id"], "starts_at": starts},
        headers=provider,
    )
    assert created.status_code == 201, created.text
    return [str(s["id"]) for s in created.json()["slots"]]


def assert_problem(
    answer: httpx.Response, status: int, type_suffix: str | None = None
) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = answer.json()
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    assert body["request_id"]
    assert body["request_id"] == answer.headers["x-request-id"]
    if type_suffix:
        assert body["type"].endswith(type_suffix), body["type"]
    return body


async def count_rows(ctx: Context, table: str) -> int:
    async with ctx.db.read() as conn:
        value = await conn.exec_driver_sql(f"SELECT count(*) FROM {table}")
        return int(value.scalar_one())
