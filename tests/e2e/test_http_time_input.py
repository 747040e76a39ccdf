"""Times over HTTP: aware, convertible to UTC, within range; slots within the booking
horizon; answers in UTC with a Z (real SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from slotbook.service_layer.context import Context
from tests.conftest import START
from tests.e2e.http_helpers import bearer, count_rows, sign_up
from tests.e2e.test_http_text_input import SERVICE, assert_invalid

FAR = ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+01:00", "2500-01-01T00:00:00Z"]


def iso(hours: float) -> str:
    return (START + timedelta(hours=hours)).isoformat().replace("+00:00", "Z")


@pytest.fixture
async def seller(client: httpx.AsyncClient) -> tuple[dict[str, str], str, str]:
    """A provider's headers, provider id and one 60-minute service."""
    signed = await sign_up(client, role="provider")
    headers = bearer(signed["access_token"])
    service = await client.post("/v1/providers/me/services", json=SERVICE, headers=headers)
    assert service.status_code == 201, service.text
    return headers, signed["user"]["provider_id"], service.json()["id"]


@pytest.mark.parametrize("value", FAR)
@pytest.mark.parametrize("param", ["from", "to"])
async def test_query_times_out_of_range_are_refused(
    client: httpx.AsyncClient, seller: tuple[dict[str, str], str, str], value: str, param: str
) -> None:
    _, provider_id, _ = seller
    for path in ("/v1/slots", f"/v1/providers/{provider_id}/slots"):
        body = assert_invalid(await client.get(path, params={param: value}), "query", param)
        assert "between 1970-01-01T00:00:00Z and 2200-01-01T00:00:00Z" in body["errors"][0]["msg"]


async def test_query_times_need_an_offset(client: httpx.AsyncClient) -> None:
    assert_invalid(await client.get("/v1/slots", params={"from": "2030-01-01T00:00:00"}))


@pytest.mark.parametrize("value", ["9999-12-31T23:59:00Z", *FAR])
async def test_far_future_slots_are_refused(
    client: httpx.AsyncClient,
    ctx: Context,
    seller: tuple[dict[str, str], str, str],
    value: str,
) -> None:
    headers, _, service_id = seller
    body = {"service_id": service_id, "starts_at": [iso(24), value]}
    answer = await client.post("/v1/providers/me/slots", json=body, headers=headers)
    assert_invalid(answer, "body", "starts_at", 1)
    assert await count_rows(ctx, "slots") == 0


async def test_slots_start_within_the_booking_horizon(
    client: httpx.AsyncClient, ctx: Context, seller: tuple[dict[str, str], str, str]
) -> None:
    headers, _, service_id = seller
    horizon = ctx.settings.booking_horizon_days * 24
    assert horizon == 730 * 24

    beyond = {"service_id": service_id, "starts_at": [iso(horizon + 1)]}
    answer = await client.post("/v1/providers/me/slots", json=beyond, headers=headers)
    refused = assert_invalid(answer, "body", "starts_at", 0)
    assert "at most 730 days ahead" in refused["detail"]
    past = {"service_id": service_id, "starts_at": [iso(-1)]}
    answer = await client.post("/v1/providers/me/slots", json=past, headers=headers)
    assert_invalid(answer, "body", "starts_at", 0)
    assert await count_rows(ctx, "slots") == 0

    edge = {"service_id": service_id, "starts_at": [iso(horizon)]}
    answer = await client.post("/v1/providers/me/slots", json=edge, headers=headers)
    assert answer.status_code == 201, answer.text


async def test_answers_give_times_in_utc_with_a_z(
    client: httpx.AsyncClient, seller: tuple[dict[str, str], str, str]
) -> None:
    headers, _, service_id = seller
    body = {"service_id": service_id, "starts_at": ["2030-01-02T15:00:00+07:00"]}
    created = await client.post("/v1/providers/me/slots", json=body, headers=headers)
    assert created.status_code == 201, created.text
    slot = created.json()["slots"][0]
    assert (slot["starts_at"], slot["ends_at"]) == ("2030-01-02T08:00:00Z", "2030-01-02T09:00:00Z")
    assert (await client.get(f"/v1/slots/{slot['id']}")).json() == slot
    window = await client.get("/v1/slots", params={"from": "2030-01-02T15:00:00+07:00"})
    assert [s["id"] for s in window.json()["slots"]] == [slot["id"]]
