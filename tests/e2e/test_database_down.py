"""A server whose database cannot be reached: alive, not ready, and quick to say so with a
503 problem, never hanging."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from slotbook.adapters.security import Tokens
from slotbook.domain.model import Principal, Role
from tests.e2e.booking import CATEGORY
from tests.e2e.servers import JWT_SECRET, Launcher

NOWHERE_PG = "postgresql://postgres@127.0.0.1:1/nowhere"  # nothing listens on port 1
CLIENT_TIMEOUT = 10.0  # the test cannot hang
QUICK_SECONDS = 5.0  # "well under 10 s"


def unreachable_url(kind: str, tmp_path: Path) -> str:
    if kind == "postgresql":
        return NOWHERE_PG
    return f"sqlite:///{tmp_path / 'no-such-directory' / 'slotbook.db'}"


def customer_token() -> str:
    tokens = Tokens(secret=JWT_SECRET, ttl_seconds=3600)
    principal = Principal(user_id=uuid.uuid4(), role=Role.CUSTOMER)
    return tokens.issue(principal, now=datetime.now(UTC))


async def timed(client: httpx.AsyncClient, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """The answer, asserted to come back well before the client's own timeout."""
    started = time.monotonic()
    answer = await client.request(method, path, **kwargs)
    elapsed = time.monotonic() - started
    assert elapsed < QUICK_SECONDS, f"{method} {path} took {elapsed:.1f} s"
    return answer


def assert_unavailable(answer: httpx.Response) -> None:
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    problem = answer.json()
    assert problem["status"] == 503
    assert problem["type"]
    assert problem["title"]
    assert problem["request_id"] == answer.headers["x-request-id"]


@pytest.mark.e2e
@pytest.mark.parametrize("kind", ["postgresql", "sqlite"])
async def test_unreachable_database_answers_503_quickly(
    launch: Launcher, tmp_path: Path, kind: str
) -> None:
    server = await launch.server(unreachable_url(kind, tmp_path), ready=False)
    headers = {"Authorization": f"Bearer {customer_token()}"}

    async with httpx.AsyncClient(base_url=server.url, timeout=CLIENT_TIMEOUT) as client:
        alive = await timed(client, "GET", "/healthz")
        assert alive.status_code == 200

        for _ in range(2):  # and again: a failed connect leaves nothing stuck behind
            assert_unavailable(await timed(client, "GET", "/readyz"))
            hold = await timed(
                client, "POST", "/v1/holds", json={"slot_id": str(uuid.uuid4())}, headers=headers
            )
            assert_unavailable(hold)

        slots = await timed(client, "GET", "/v1/slots", params={"category": CATEGORY})
        assert_unavailable(slots)
        signup = {
            "email": "nobody@example.com",
            "password": "e2e-password-123",
            "name": "Nobody",
            "role": "customer",
        }
        assert_unavailable(await timed(client, "POST", "/v1/auth/signup", json=signup))
        alive = await timed(client, "GET", "/healthz")
        assert alive.status_code == 200
    assert server.process.running
