"""The smaller input rules over HTTP: passwords as typed, strict numbers, real currencies,
email lengths, clean names, literal search, and one 422 shape (SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from slotbook.service_layer.context import Context
from tests import builders
from tests.conftest import START
from tests.e2e.http_helpers import bearer, count_rows, sign_up
from tests.e2e.test_http_text_input import SERVICE, assert_invalid, signup_body


async def test_passwords_are_taken_exactly_as_typed(client: httpx.AsyncClient) -> None:
    typed = "  two words  "
    created = await client.post("/v1/auth/signup", json=signup_body(password=typed))
    assert created.status_code == 201, created.text
    exact = await client.post(
        "/v1/auth/login", json={"email": "ann@example.com", "password": typed}
    )
    assert exact.status_code == 200
    stripped = {"email": "ann@example.com", "password": typed.strip()}
    assert (await client.post("/v1/auth/login", json=stripped)).status_code == 401


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("duration_minutes", True),
        ("price_minor", True),
        ("price_minor", False),
        ("duration_minutes", 60.0),
        ("price_minor", "35000"),
        ("price_minor", 0),
        ("price_minor", -1),
        ("currency", "XYZ"),
        ("currency", "DEM"),
        ("currency", "TH"),
        ("category", ""),
    ],
)
async def test_service_numbers_and_currency_are_strict(
    client: httpx.AsyncClient, ctx: Context, field: str, value: Any
) -> None:
    headers = bearer((await sign_up(client, role="provider"))["access_token"])
    body = {**SERVICE, field: value}
    answer = await client.post("/v1/providers/me/services", json=body, headers=headers)
    assert_invalid(answer, "body", field)
    assert await count_rows(ctx, "services") == 0


async def test_currency_is_stored_upper_case(client: httpx.AsyncClient) -> None:
    headers = bearer((await sign_up(client, role="provider"))["access_token"])
    body = {**SERVICE, "currency": "usd"}
    created = await client.post("/v1/providers/me/services", json=body, headers=headers)
    assert created.json()["currency"] == "USD"


@pytest.mark.parametrize(
    "email",
    [
        "a" * 65 + "@example.com",
        "ü" * 33 + "@example.com",
        "x@" + ("a" * 63 + ".") * 4 + "com",
        "a" * 64 + "@" + ("b" * 62 + ".") * 3 + "com",
    ],
)
async def test_email_parts_within_rfc_limits(
    client: httpx.AsyncClient, ctx: Context, email: str
) -> None:
    answer = await client.post("/v1/auth/signup", json=signup_body(email=email))
    assert_invalid(answer, "body", "email")
    assert await count_rows(ctx, "users") == 0


BAD_NAMES = ["Ann\u202eLee", "Ann\u2066Lee", "Ann\nLee", "Ann\x1b[2J", "\u200b\u200d\ufeff", "   "]


@pytest.mark.parametrize("name", BAD_NAMES)
async def test_names_refuse_controls_bidi_and_invisible_blanks(
    client: httpx.AsyncClient, ctx: Context, name: str
) -> None:
    assert_invalid(await client.post("/v1/auth/signup", json=signup_body(name=name)))
    headers = bearer((await sign_up(client, role="provider"))["access_token"])
    patch = await client.patch("/v1/providers/me", json={"display_name": name}, headers=headers)
    assert_invalid(patch, "body", "display_name")
    body = {**SERVICE, "name": name}
    service = await client.post("/v1/providers/me/services", json=body, headers=headers)
    assert_invalid(service, "body", "name")
    assert await count_rows(ctx, "services") == 0


async def test_a_bio_keeps_its_lines_but_not_other_controls(client: httpx.AsyncClient) -> None:
    headers = bearer((await sign_up(client, role="provider"))["access_token"])
    bio = "Open daily.\nTwo rooms:\tfoot and body."
    patched = await client.patch("/v1/providers/me", json={"bio": bio}, headers=headers)
    assert patched.json()["bio"] == bio
    for bad in ("bell\x07", "evil\u202etxt.exe"):
        answer = await client.patch("/v1/providers/me", json={"bio": bad}, headers=headers)
        assert_invalid(answer, "body", "bio")


async def test_search_wildcards_match_themselves(client: httpx.AsyncClient, ctx: Context) -> None:
    names = {"100% Thai": None, "Foot_Spa": None, "Plain Spa": None}
    for name in names:
        signed = await sign_up(client, role="provider")
        headers = bearer(signed["access_token"])
        await client.patch("/v1/providers/me", json={"display_name": name}, headers=headers)

    async def found(q: str) -> list[str]:
        answer = await client.get("/v1/providers", params={"q": q})
        return [p["display_name"] for p in answer.json()["providers"]]

    assert await found("%") == ["100% Thai"]
    assert await found("_") == ["Foot_Spa"]
    assert await found("0% t") == ["100% Thai"]
    assert await found("t_s") == ["Foot_Spa"]
    assert await found("\\") == []
    assert sorted(await found("spa")) == ["Foot_Spa", "Plain Spa"]


async def test_domain_refusals_carry_the_errors_list(
    client: httpx.AsyncClient, ctx: Context
) -> None:
    headers = bearer((await sign_up(client, role="provider"))["access_token"])
    zone = await client.patch(
        "/v1/providers/me", json={"timezone": "Mars/Olympus"}, headers=headers
    )
    assert_invalid(zone, "body", "timezone")

    _, (slot, *_) = await builders.provider_with_slots(ctx, first=START.replace(year=2031))
    customer = bearer((await sign_up(client))["access_token"])
    too_long = {**customer, "Idempotency-Key": "k" * 300}
    answer = await client.post("/v1/holds", json={"slot_id": str(slot.id)}, headers=too_long)
    assert_invalid(answer, "header", "Idempotency-Key")
    key = {**customer, "Idempotency-Key": uuid.uuid4().hex}
    first = await client.post("/v1/holds", json={"slot_id": str(slot.id)}, headers=key)
    assert first.status_code == 201
    other = await client.post("/v1/holds", json={"slot_id": str(uuid.uuid4())}, headers=key)
    assert_invalid(other, "header", "Idempotency-Key")
