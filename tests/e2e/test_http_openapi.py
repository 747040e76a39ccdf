"""The served OpenAPI document says what the API answers: problem+json errors, the 422
shape, methods and Allow; and the provider's own profile and slots under /me."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx

from slotbook.service_layer.context import Context
from tests.conftest import START
from tests.e2e.http_helpers import assert_problem, bearer, sign_up
from tests.e2e.test_http_text_input import SERVICE, assert_invalid

VALIDATION_PROBLEM = {"$ref": "#/components/schemas/ValidationProblem"}


async def spec_of(client: httpx.AsyncClient) -> dict[str, Any]:
    spec: dict[str, Any] = (await client.get("/openapi.json")).json()
    return spec


async def test_every_error_is_documented_as_problem_json(client: httpx.AsyncClient) -> None:
    spec = await spec_of(client)
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    problem = spec["components"]["schemas"]["ValidationProblem"]
    assert "errors" in problem["required"]
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            for status, response in op["responses"].items():
                if status[0] in "45":
                    assert list(response["content"]) == ["application/problem+json"], (path, status)
                if status == "422":
                    schema = response["content"]["application/problem+json"]["schema"]
                    assert schema == VALIDATION_PROBLEM, (method, path)
            if op.get("parameters") or "requestBody" in op:
                assert "422" in op["responses"], (method, path)
            if "requestBody" in op:
                assert "400" in op["responses"], (method, path)
    for param in spec["paths"]["/v1/slots"]["get"]["parameters"]:
        assert "anyOf" not in param["schema"], param  # a query string cannot say null


async def test_a_body_that_is_not_text_answers_400(client: httpx.AsyncClient) -> None:
    headers = {**bearer((await sign_up(client))["access_token"])}
    headers["Content-Type"] = "application/json"
    answer = await client.post("/v1/auth/login", content=b'{"email": "\xff\xfe"}', headers=headers)
    assert_problem(answer, 400)


async def test_a_405_lists_every_method_of_the_resource(client: httpx.AsyncClient) -> None:
    hold = f"/v1/holds/{uuid.uuid4()}"
    answer = await client.options(hold)
    assert_problem(answer, 405)
    assert answer.headers["allow"] == "DELETE, GET, HEAD"
    assert (await client.put("/v1/providers/me")).headers["allow"] == "GET, HEAD, PATCH"
    assert (await client.delete("/healthz")).headers["allow"] == "GET, HEAD"


async def test_a_number_is_not_a_time(client: httpx.AsyncClient) -> None:
    for value in ("0.5", "1700000000", "1e9"):
        assert_invalid(await client.get("/v1/slots", params={"to": value}), "query", "to")


async def test_a_provider_reads_its_own_profile_and_slots(
    client: httpx.AsyncClient, ctx: Context
) -> None:
    signed = await sign_up(client, role="provider")
    headers = bearer(signed["access_token"])
    me = await client.get("/v1/providers/me", headers=headers)
    assert me.status_code == 200
    assert me.json()["id"] == signed["user"]["provider_id"]
    service = await client.post("/v1/providers/me/services", json=SERVICE, headers=headers)
    starts = [(START + timedelta(days=1, hours=h)).isoformat() for h in range(3)]
    body = {"service_id": service.json()["id"], "starts_at": starts}
    created = await client.post("/v1/providers/me/slots", json=body, headers=headers)
    own = await client.get("/v1/providers/me/slots", headers=headers)
    assert own.json() == created.json()
    window = await client.get(
        "/v1/providers/me/slots", params={"from": starts[1], "limit": 1}, headers=headers
    )
    assert [s["starts_at"] for s in window.json()["slots"]] == [
        created.json()["slots"][1]["starts_at"]
    ]
    customer = bearer((await sign_up(client))["access_token"])
    assert_problem(await client.get("/v1/providers/me", headers=customer), 403)
    assert_problem(await client.get("/v1/providers/me/slots", headers=customer), 403)
