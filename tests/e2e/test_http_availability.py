"""PUT/GET /v1/providers/me/availability over HTTP, and the slots the worker opens from it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from slotbook.adapters.clock import ManualClock
from slotbook.service_layer import sweeper
from slotbook.service_layer.context import Context
from tests.e2e.http_helpers import assert_problem, bearer, count_rows, sign_up

PATH = "/v1/providers/me/availability"
MONDAY = datetime(2030, 1, 6, 17, tzinfo=UTC)  # Monday 7 January 2030, 00:00 in Bangkok


@pytest.fixture
async def provider(client: httpx.AsyncClient, clock: ManualClock) -> dict[str, Any]:
    clock.set(MONDAY)
    signed = await sign_up(client, "provider")
    headers = bearer(signed["access_token"])
    service = await client.post(
        "/v1/providers/me/services",
        json={
            "name": "Massage",
            "category": "massage",
            "duration_minutes": 60,
            "price_minor": 50_000,
            "currency": "THB",
        },
        headers=headers,
    )
    assert service.status_code == 201
    return {
        "headers": headers,
        "service_id": service.json()["id"],
        "id": signed["user"]["provider_id"],
    }


def document(service_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "services": [
            {
                "service_id": service_id,
                "weekly": [
                    {
                        "weekday": "monday",
                        "start": "09:00",
                        "end": "13:00",
                        "breaks": [{"start": "11:00", "end": "12:00"}],
                    },
                    {"weekday": "tuesday", "start": "22:00", "end": "24:00"},
                ],
                "overrides": [{"date": "2030-01-14", "hours": []}],
            }
        ],
        "days_off": ["2030-01-21"],
        **extra,
    }


async def test_publish_read_and_the_slots_that_follow(
    client: httpx.AsyncClient, ctx: Context, provider: dict[str, Any]
) -> None:
    headers = provider["headers"]
    empty = await client.get(PATH, headers=headers)
    assert empty.status_code == 200
    assert empty.json()["services"] == []
    assert (empty.json()["version"], empty.json()["timezone"]) == (0, "Asia/Bangkok")

    put = await client.put(PATH, json=document(provider["service_id"]), headers=headers)
    assert put.status_code == 200, put.text
    body = put.json()
    assert body["version"] == 1
    assert body["horizon_days"] == 60
    assert body["materialised_version"] is None
    assert body["services"][0]["weekly"][1] == {
        "weekday": "tuesday",
        "start": "22:00",
        "end": "24:00",
        "breaks": [],
    }
    assert body["services"][0]["overrides"] == [{"date": "2030-01-14", "hours": []}]
    assert body["days_off"] == ["2030-01-21"]

    await sweeper.sweep_once(ctx)
    read = (await client.get(PATH, headers=headers)).json()
    assert read["materialised_version"] == 1
    assert read["materialised_at"] == "2030-01-06T17:00:00Z"
    slots = (await client.get("/v1/providers/me/slots", headers=headers)).json()["slots"]
    starts = [s["starts_at"] for s in slots]
    assert starts[:5] == [
        "2030-01-07T02:00:00Z",  # Monday 09:00 in Bangkok
        "2030-01-07T03:00:00Z",
        "2030-01-07T05:00:00Z",  # after the break
        "2030-01-08T15:00:00Z",  # Tuesday 22:00
        "2030-01-08T16:00:00Z",  # 23:00, to midnight
    ]
    assert not any(s.startswith(("2030-01-14", "2030-01-21")) for s in starts)
    public = await client.get(f"/v1/providers/{provider['id']}/slots", params={"available": "true"})
    assert [s["starts_at"] for s in public.json()["slots"]] == starts

    again = await client.put(PATH, json=document(provider["service_id"]), headers=headers)
    assert again.json()["version"] == 2
    await sweeper.sweep_once(ctx)
    assert (await client.get("/v1/providers/me/slots", headers=headers)).json()["slots"] == slots


BAD = [
    (
        {
            "services": [
                {
                    "service_id": "S",
                    "weekly": [{"weekday": "monday", "start": "10:00", "end": "09:00"}],
                }
            ]
        },
        "end",
    ),
    (
        {
            "services": [
                {
                    "service_id": "S",
                    "weekly": [
                        {"weekday": "monday", "start": "09:00", "end": "12:00"},
                        {"weekday": "monday", "start": "11:00", "end": "13:00"},
                    ],
                }
            ]
        },
        1,
    ),
    ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
    (
        {
            "services": [
                {
                    "service_id": "S",
                    "weekly": [{"weekday": "monday", "start": "25:00", "end": "26:00"}],
                }
            ]
        },
        "start",
    ),
    (
        {
            "services": [
                {
                    "service_id": "S",
                    "weekly": [{"weekday": "funday", "start": "09:00", "end": "10:00"}],
                }
            ]
        },
        "weekday",
    ),
    ({"days_off": ["9999-12-31"]}, 0),
    ({"days_off": ["2030-01-01"] * 401}, "days_off"),
    (
        {
            "services": [
                {
                    "service_id": "S",
                    "weekly": [
                        {
                            "weekday": "monday",
                            "start": "09:00",
                            "end": "10:00",
                            "breaks": [{"start": "08:00", "end": "09:30"}],
                        }
                    ],
                }
            ]
        },
        0,
    ),
    ({"services": [{"service_id": "00000000-0000-0000-0000-000000000000"}]}, "service_id"),
    ({"services": [{"service_id": "S"}, {"service_id": "S"}]}, "service_id"),
    ({"services": [], "surprise": True}, "surprise"),
    ({"services": [{"service_id": "S", "overrides": [{"date": 20300101}]}]}, "date"),
]


@pytest.mark.parametrize(("body", "last_loc"), BAD)
async def test_bad_availability_is_a_422_and_changes_nothing(
    client: httpx.AsyncClient,
    ctx: Context,
    provider: dict[str, Any],
    body: dict[str, Any],
    last_loc: Any,
) -> None:
    headers = provider["headers"]
    assert (
        await client.put(PATH, json=document(provider["service_id"]), headers=headers)
    ).status_code == 200
    before = (await client.get(PATH, headers=headers)).json()
    raw = (
        repr(body)
        .replace("'", '"')
        .replace("True", "true")
        .replace('"S"', f'"{provider["service_id"]}"')
    )
    answer = await client.put(
        PATH, content=raw, headers={**headers, "content-type": "application/json"}
    )
    problem = assert_problem(answer, 422)
    assert any(e["loc"][-1] == last_loc for e in problem["errors"]), problem["errors"]
    assert (await client.get(PATH, headers=headers)).json() == before
    assert (await client.get("/v1/providers/me", headers=headers)).json()[
        "timezone"
    ] == "Asia/Bangkok"
    assert await count_rows(ctx, "slots") == 0


async def test_roles(client: httpx.AsyncClient, provider: dict[str, Any]) -> None:
    customer = bearer((await sign_up(client))["access_token"])
    assert_problem(await client.get(PATH, headers=customer), 403)
    assert_problem(await client.put(PATH, json={}, headers=customer), 403)
    assert_problem(await client.get(PATH), 401)


async def test_a_new_time_zone_in_the_document_becomes_the_providers(
    client: httpx.AsyncClient, ctx: Context, provider: dict[str, Any]
) -> None:
    headers = provider["headers"]
    body = document(provider["service_id"], timezone="America/New_York")
    assert (await client.put(PATH, json=body, headers=headers)).json()[
        "timezone"
    ] == "America/New_York"
    assert (await client.get("/v1/providers/me", headers=headers)).json()[
        "timezone"
    ] == "America/New_York"
    await sweeper.sweep_once(ctx)
    slots = (await client.get("/v1/providers/me/slots", headers=headers)).json()["slots"]
    assert slots[0]["starts_at"] == "2030-01-07T14:00:00Z"  # Monday 09:00 in New York (EST)
