"""Request bodies are bounded (edge/body_limit.py): one over the limit answers 413
problem+json and changes nothing, whether its length is declared or it comes chunked, on
the fast lane and on every other route; one within the limit is read as ever."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from slotbook.config import Settings
from slotbook.service_layer.context import Context
from tests.e2e.http_helpers import assert_problem, bearer, count_rows, sign_up

JSON = {"content-type": "application/json"}
ROUTES = ("/v1/holds", "/v1/auth/signup", "/v1/webhooks/sandbox")


def padded(body: dict[str, object], size: int) -> bytes:
    """`body` as JSON, padded with trailing whitespace to exactly `size` bytes."""
    text = json.dumps(body).encode()
    return text + b" " * (size - len(text))


async def chunks(total: int, piece: int = 64 * 1024) -> AsyncIterator[bytes]:
    """`total` bytes of a JSON string, sent chunked (no Content-Length)."""
    yield b'{"slot_id": "'
    sent = 13
    while sent < total:
        part = min(piece, total - sent)
        yield b"x" * part
        sent += part
    yield b'"}'


@pytest.mark.parametrize("sent", ["declared", "chunked"])
@pytest.mark.parametrize("path", ROUTES)
async def test_a_body_over_the_limit_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, ctx: Context, settings: Settings, path: str, sent: str
) -> None:
    """Declared with a Content-Length, it is refused unread; chunked, the moment it
    passes the limit."""
    customer = await sign_up(client)
    users = await count_rows(ctx, "users")
    size = settings.max_body_bytes + 1
    body = padded({"slot_id": "x"}, size) if sent == "declared" else chunks(size)
    headers = JSON | bearer(customer["access_token"])
    answer = await client.post(path, content=body, headers=headers)
    problem = assert_problem(answer, 413, "/too-large")
    assert str(settings.max_body_bytes) in problem["detail"]
    assert await count_rows(ctx, "holds") == 0
    assert await count_rows(ctx, "users") == users


async def test_a_body_of_the_limit_itself_is_read_as_ever(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    body = {
        "email": "full@example.com",
        "password": "password123",
        "name": "Full",
        "role": "customer",
    }
    declared = await client.post(
        "/v1/auth/signup", content=padded(body, settings.max_body_bytes), headers=JSON
    )
    assert declared.status_code == 201, declared.text

    async def whole() -> AsyncIterator[bytes]:
        yield padded({**body, "email": "chunked@example.com"}, settings.max_body_bytes)

    chunked = await client.post("/v1/auth/signup", content=whole(), headers=JSON)
    assert chunked.status_code == 201, chunked.text
