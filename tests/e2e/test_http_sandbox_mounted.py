"""The sandbox gateway mounted in slotbook's app answers as it does alone: problem+json
with the service's request id (its outermost middleware sets it), a 422 before anything
else, and the service's HEAD and Allow rules."""

from __future__ import annotations

import httpx

from tests.sandbox_helpers import assert_sandbox_problem


async def test_the_service_request_id_is_the_sandbox_problem_s(client: httpx.AsyncClient) -> None:
    # the test client runs no lifespan, so the gateway is mounted but not running
    answer = await client.get("/sandbox/healthz", headers={"X-Request-ID": "req-7"})
    body = assert_sandbox_problem(answer, 503, "sandbox_not_running")
    assert body["request_id"] == "req-7"
    assert answer.headers.get_list("x-request-id") == ["req-7"]


async def test_the_body_is_checked_first(client: httpx.AsyncClient) -> None:
    answer = await client.post("/sandbox/payments", json={"reference": "a\x00b"})
    problem = assert_sandbox_problem(answer, 422, "invalid_request")
    assert ["body", "reference"] in [e["loc"] for e in problem["errors"]]


async def test_head_and_allow_under_sandbox(client: httpx.AsyncClient) -> None:
    head = await client.head("/sandbox/healthz")
    assert (head.status_code, head.content) == (503, b"")
    answer = await client.options("/sandbox/control/merchant-api")
    assert_sandbox_problem(answer, 405, "method_not_allowed")
    assert answer.headers["allow"] == "GET, HEAD, PUT"
