"""A slot's start bounds its hold, and a slot that has started is closed to everyone."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest

from slotbook.adapters.clock import ManualClock
from slotbook.domain.slots import Slot
from slotbook.service_layer.context import Context
from tests import builders
from tests.conftest import START
from tests.e2e.http_helpers import bearer, sign_up

DAY = START + timedelta(days=1)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture
async def slot(ctx: Context) -> Slot:
    _, (first, *_) = await builders.provider_with_slots(ctx, first=DAY, count=2)
    return first


async def test_a_hold_taken_seconds_before_the_start_answers_its_capped_expiry(
    client: httpx.AsyncClient, slot: Slot, clock: ManualClock
) -> None:
    clock.set(slot.starts_at - timedelta(seconds=3))
    alice = await sign_up(client)
    answer = await client.post(
        "/v1/holds", json={"slot_id": str(slot.id)}, headers=bearer(alice["access_token"])
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["expires_at"] == iso(slot.starts_at)


async def test_an_available_slot_that_has_started_reads_closed(
    client: httpx.AsyncClient, slot: Slot, clock: ManualClock
) -> None:
    clock.set(slot.starts_at)
    assert (await client.get(f"/v1/slots/{slot.id}")).json()["status"] == "closed"


async def test_a_held_slot_reads_closed_once_it_has_started(
    client: httpx.AsyncClient, slot: Slot, clock: ManualClock
) -> None:
    clock.set(slot.starts_at - timedelta(seconds=3))
    alice = await sign_up(client)
    await client.post(
        "/v1/holds", json={"slot_id": str(slot.id)}, headers=bearer(alice["access_token"])
    )
    clock.set(slot.starts_at)
    assert (await client.get(f"/v1/slots/{slot.id}")).json()["status"] == "closed"


async def test_listings_show_a_started_slot_as_closed(
    client: httpx.AsyncClient, slot: Slot, clock: ManualClock
) -> None:
    clock.set(slot.starts_at)
    listed = await client.get(f"/v1/providers/{slot.provider_id}/slots")
    assert [s["status"] for s in listed.json()["slots"]] == ["closed", "available"]
