"""Accounts, the provider side and the public catalog over HTTP."""

from __future__ import annotations

from datetime import timedelta

import httpx

from slotbook.service_layer.context import Context
from tests.conftest import START
from tests.e2e.http_helpers import assert_problem, bearer, count_rows, sign_up

DAY = START + timedelta(days=1)


def iso(hours: float) -> str:
    return (DAY + timedelta(hours=hours)).isoformat().replace("+00:00", "Z")


async def test_signup_login_and_me(client: httpx.AsyncClient) -> None:
    body = {
        "email": "Ann@Example.com",
        "password": "password123",
        "name": "Ann",
        "role": "customer",
    }
    created = await client.post("/v1/auth/signup", json=body)
    assert created.status_code == 201
    signed = created.json()
    assert signed["token_type"] == "bearer"
    assert signed["user"]["email"] == "ann@example.com"
    assert_problem(await client.post("/v1/auth/signup", json=body), 409, "/email-taken")
    login = await client.post(
        "/v1/auth/login", json={"email": "ann@example.com", "password": "password123"}
    )
    assert login.status_code == 200
    me = await client.get("/v1/me", headers=bearer(login.json()["access_token"]))
    assert me.json() == signed["user"]
    wrong = await client.post(
        "/v1/auth/login", json={"email": "ann@example.com", "password": "wrong-password"}
    )
    assert_problem(wrong, 401, "/invalid-credentials")
    nobody = await client.post(
        "/v1/auth/login", json={"email": "nobody@example.com", "password": "password123"}
    )
    assert_problem(nobody, 401, "/invalid-credentials")


async def test_signup_refuses_bad_input_and_admin_role(
    client: httpx.AsyncClient, ctx: Context
) -> None:
    for body in (
        {"email": "x@example.com", "password": "short", "name": "X", "role": "customer"},
        {"email": "not-an-email", "password": "password123", "name": "X", "role": "customer"},
        {"email": "x@example.com", "password": "password123", "name": "X", "role": "admin"},
        {"email": "x@example.com", "password": "password123", "role": "customer"},
    ):
        assert_problem(await client.post("/v1/auth/signup", json=body), 422, "/validation-error")
    assert await count_rows(ctx, "users") == 0


async def test_provider_builds_a_catalog(client: httpx.AsyncClient, ctx: Context) -> None:
    provider = await sign_up(client, role="provider")
    headers = bearer(provider["access_token"])
    provider_id = provider["user"]["provider_id"]
    me = (await client.get("/v1/me", headers=headers)).json()
    assert me["provider_id"] == provider_id

    patched = await client.patch(
        "/v1/providers/me",
        json={"display_name": "Silom Spa", "bio": "Foot massage"},
        headers=headers,
    )
    assert patched.json()["display_name"] == "Silom Spa"
    assert patched.json()["timezone"] == "Asia/Bangkok"
    bad_zone = await client.patch(
        "/v1/providers/me", json={"timezone": "Mars/Olympus"}, headers=headers
    )
    assert_problem(bad_zone, 422)

    service = await client.post(
        "/v1/providers/me/services",
        json={
            "name": "Foot massage",
            "category": "Massage",
            "duration_minutes": 60,
            "price_minor": 35000,
            "currency": "thb",
        },
        headers=headers,
    )
    assert service.status_code == 201
    service_id = service.json()["id"]
    assert (service.json()["category"], service.json()["currency"]) == ("massage", "THB")

    slots = await client.post(
        "/v1/providers/me/slots",
        json={"service_id": service_id, "starts_at": [iso(0), iso(1), iso(2)]},
        headers=headers,
    )
    assert slots.status_code == 201
    created = slots.json()["slots"]
    assert [s["starts_at"] for s in created] == [iso(0), iso(1), iso(2)]
    assert created[0]["ends_at"] == iso(1)
    assert {s["status"] for s in created} == {"available"}

    overlap = await client.post(
        "/v1/providers/me/slots",
        json={"service_id": service_id, "starts_at": [iso(5), iso(2.5)]},
        headers=headers,
    )
    assert_problem(overlap, 409, "/slot-overlap")
    inner = await client.post(
        "/v1/providers/me/slots",
        json={"service_id": service_id, "starts_at": [iso(7), iso(7.5)]},
        headers=headers,
    )
    assert_problem(inner, 409, "/slot-overlap")
    assert await count_rows(ctx, "slots") == 3  # nothing of either refused batch

    listed = (await client.get("/v1/providers", params={"category": "massage"})).json()
    assert [p["id"] for p in listed["providers"]] == [provider_id]
    assert listed["providers"][0]["categories"] == ["massage"]
    assert (await client.get("/v1/providers", params={"category": "dental"})).json() == {
        "providers": []
    }
    assert len((await client.get("/v1/providers", params={"q": "silom"})).json()["providers"]) == 1
    detail = (await client.get(f"/v1/providers/{provider_id}")).json()
    assert [s["id"] for s in detail["services"]] == [service_id]

    window = await client.get(
        f"/v1/providers/{provider_id}/slots", params={"from": iso(1), "to": iso(3)}
    )
    assert [s["starts_at"] for s in window.json()["slots"]] == [iso(1), iso(2)]
    across = await client.get("/v1/slots", params={"category": "massage", "available": "true"})
    assert len(across.json()["slots"]) == 3
    one = await client.get(f"/v1/slots/{created[0]['id']}")
    assert one.json() == created[0]


async def test_provider_side_is_for_providers(client: httpx.AsyncClient) -> None:
    customer = await sign_up(client)
    answer = await client.post(
        "/v1/providers/me/services",
        json={
            "name": "x",
            "category": "x",
            "duration_minutes": 60,
            "price_minor": 1,
            "currency": "THB",
        },
        headers=bearer(customer["access_token"]),
    )
    assert_problem(answer, 403)
    assert_problem(await client.patch("/v1/providers/me", json={}), 401)


async def test_unknown_ids_and_bad_queries(client: httpx.AsyncClient) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    assert_problem(await client.get(f"/v1/providers/{missing}"), 404, "/provider-not-found")
    assert_problem(await client.get(f"/v1/slots/{missing}"), 404, "/slot-not-found")
    assert_problem(await client.get(f"/v1/providers/{missing}/slots"), 404)
    assert_problem(await client.get("/v1/slots/not-a-uuid"), 422, "/validation-error")
    assert_problem(await client.get("/v1/slots", params={"from": "yesterday"}), 422)
    assert_problem(await client.get("/v1/slots", params={"from": "2030-01-01T00:00:00"}), 422)
    assert_problem(await client.get("/v1/nowhere"), 404)


async def test_operations_endpoints(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).status_code == 200
    metrics = await client.get("/metrics")
    assert "slotbook_hold_attempts_total" in metrics.text
    assert "slotbook_hold_seconds_bucket" in metrics.text
    assert "slotbook_active_holds" in metrics.text
    spec = (await client.get("/openapi.json")).json()
    for path in ("/v1/holds", "/v1/holds/{hold_id}", "/v1/auth/signup", "/v1/slots", "/readyz"):
        assert path in spec["paths"]
    assert "requestBody" in spec["paths"]["/v1/holds"]["post"]
