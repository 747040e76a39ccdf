"""Odd text over HTTP: every bad value answers a problem+json 422 with `errors`, and
nothing changes (real SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from slotbook.service_layer.context import Context
from tests.e2e.http_helpers import assert_problem, bearer, count_rows, sign_up

NUL = "a\x00b"
SERVICE = {
    "name": "Foot massage",
    "category": "massage",
    "duration_minutes": 60,
    "price_minor": 35_000,
    "currency": "THB",
}


def assert_invalid(answer: httpx.Response, *loc: str | int) -> dict[str, Any]:
    """A 422 problem whose `errors` name the field at `loc`."""
    body = assert_problem(answer, 422)
    assert isinstance(body["errors"], list), body
    assert body["errors"], body
    for err in body["errors"]:
        assert set(err) == {"loc", "msg", "type"}, err
    if loc:
        assert [e for e in body["errors"] if tuple(e["loc"]) == loc], body["errors"]
    return body


@pytest.fixture
async def provider(client: httpx.AsyncClient) -> dict[str, str]:
    signed = await sign_up(client, role="provider")
    return bearer(signed["access_token"])


def signup_body(**changes: Any) -> dict[str, Any]:
    body = {"email": "ann@example.com", "password": "password123", "name": "Ann"}
    return {**body, "role": "customer", **changes}


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("/v1/providers", "q"),
        ("/v1/providers", "category"),
        ("/v1/slots", "category"),
    ],
)
async def test_a_nul_in_a_query_parameter_is_refused(
    client: httpx.AsyncClient, path: str, param: str
) -> None:
    assert_invalid(await client.get(path, params={param: NUL}), "query", param)


@pytest.mark.parametrize("field", ["email", "password", "name"])
async def test_a_nul_in_a_signup_field_is_refused(
    client: httpx.AsyncClient, ctx: Context, field: str
) -> None:
    value = "ann\x00@example.com" if field == "email" else f"password{NUL}"
    answer = await client.post("/v1/auth/signup", json=signup_body(**{field: value}))
    assert_invalid(answer, "body", field)
    assert await count_rows(ctx, "users") == 0


async def test_a_nul_in_login_is_refused(client: httpx.AsyncClient) -> None:
    body = {"email": "ann@example.com", "password": f"password{NUL}"}
    assert_invalid(await client.post("/v1/auth/login", json=body), "body", "password")


@pytest.mark.parametrize("field", ["display_name", "bio", "timezone"])
async def test_a_nul_in_the_profile_is_refused(
    client: httpx.AsyncClient, provider: dict[str, str], field: str
) -> None:
    answer = await client.patch("/v1/providers/me", json={field: NUL}, headers=provider)
    assert_invalid(answer, "body", field)
    me = (await client.get("/v1/me", headers=provider)).json()
    profile = (await client.get(f"/v1/providers/{me['provider_id']}")).json()
    assert profile["display_name"] == "A provider"
    assert profile["bio"] == ""


@pytest.mark.parametrize("field", ["name", "category", "currency"])
async def test_a_nul_in_a_service_is_refused(
    client: httpx.AsyncClient, ctx: Context, provider: dict[str, str], field: str
) -> None:
    body = {**SERVICE, field: NUL}
    answer = await client.post("/v1/providers/me/services", json=body, headers=provider)
    assert_invalid(answer, "body", field)
    assert await count_rows(ctx, "services") == 0


def text_inputs(spec: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(method, path, where, name) of every plain-text query parameter and body property
    the OpenAPI document describes."""

    def is_text(schema: dict[str, Any]) -> bool:
        options = schema.get("anyOf", [schema])
        return any(o.get("type") == "string" and "format" not in o for o in options)

    found = []
    components = spec["components"]["schemas"]
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            for param in op.get("parameters", []):
                if param["in"] == "query" and is_text(param["schema"]):
                    found.append((method, path, "query", param["name"]))
            content = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            schema = content.get("schema", {})
            if "$ref" in schema:
                schema = components[schema["$ref"].rsplit("/", 1)[1]]
            for name, prop in schema.get("properties", {}).items():
                if is_text(prop) or prop.get("format") == "email":
                    found.append((method, path, "body", name))
    return found


async def test_every_text_input_of_every_route_refuses_a_nul(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    inputs = text_inputs(spec)
    assert ("get", "/v1/providers", "query", "q") in inputs
    assert ("post", "/v1/auth/signup", "body", "email") in inputs
    tokens = [
        (await sign_up(client, role=role))["access_token"] for role in ("customer", "provider")
    ]
    for method, path, where, name in inputs:
        url = path.replace("{", "").replace("}", "")  # any id: the input is refused first
        refused = []
        for token in tokens:
            kwargs: dict[str, Any] = {"headers": bearer(token)}
            if where == "query":
                kwargs["params"] = {name: NUL}
            else:
                kwargs["json"] = {name: NUL}
            answer = await client.request(method.upper(), url, **kwargs)
            if answer.status_code == 422:
                refused.append(assert_invalid(answer, where, name))
        assert refused, (method, path, where, name)
