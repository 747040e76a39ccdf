"""The sandbox gateway alone, as HTTP: its answers carry request ids like the service's,
a 405 names every method of the resource, HEAD works wherever GET does, and a path it
does not serve answers a problem too."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from slotbook.adapters.clock import ManualClock
from tests.sandbox_helpers import RunningSandbox, assert_sandbox_problem, running_sandbox


@pytest.fixture
async def gw(tmp_path: Path, clock: ManualClock) -> AsyncIterator[RunningSandbox]:
    async with running_sandbox(tmp_path / "sandbox.db", clock) as running:
        yield running


async def test_every_answer_carries_the_request_id(gw: RunningSandbox) -> None:
    sent = await gw.http.get("/payments/sbx_pay_nope", headers={"X-Request-ID": "req-42"})
    assert assert_sandbox_problem(sent, 404, "payment_not_found")["request_id"] == "req-42"
    made = await gw.http.get("/payments/sbx_pay_nope")
    assert len(assert_sandbox_problem(made, 404, "payment_not_found")["request_id"]) == 32
    assert (await gw.http.get("/healthz")).headers["x-request-id"]


async def test_a_405_names_every_method_of_the_resource(gw: RunningSandbox) -> None:
    answer = await gw.http.delete("/control/merchant-api")
    assert_sandbox_problem(answer, 405, "method_not_allowed")
    assert answer.headers["allow"] == "GET, HEAD, PUT"
    assert (await gw.http.get("/payments")).headers["allow"] == "POST"


async def test_head_answers_as_get_without_a_body(gw: RunningSandbox) -> None:
    answer = await gw.http.head("/healthz")
    assert (answer.status_code, answer.content) == (200, b"")
    missing = await gw.http.head("/payments/sbx_pay_nope")
    assert (missing.status_code, missing.content) == (404, b"")


async def test_paths_it_does_not_serve_are_problems_too(gw: RunningSandbox) -> None:
    assert_sandbox_problem(await gw.http.get("/nothing-here"), 404, "not_found")
    async with httpx.AsyncClient(base_url=gw.url.removesuffix("/sandbox")) as outside:
        assert_sandbox_problem(await outside.get("/v1/holds"), 404, "not_found")


async def test_a_body_that_is_not_json_answers_422(gw: RunningSandbox) -> None:
    headers = {"Content-Type": "application/json", "Idempotency-Key": "k"}
    answer = await gw.http.post("/payments", content=b"{not json", headers=headers)
    problem = assert_sandbox_problem(answer, 422, "invalid_request")
    assert problem["errors"][0]["type"] == "json_invalid"


async def test_a_body_that_is_not_text_answers_400(gw: RunningSandbox) -> None:
    headers = {"Content-Type": "application/json", "Idempotency-Key": "k"}
    answer = await gw.http.post("/payments", content=b'{"reference": "\xff\xfe"}', headers=headers)
    assert_sandbox_problem(answer, 400, "bad_request")
