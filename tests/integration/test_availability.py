"""Materialising weekly hours into slots, on SQLite and PostgreSQL: idempotent, never
touching held or booked slots, closing only free ones, right across DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import pytest

from slotbook.adapters.clock import ManualClock
from slotbook.adapters.db.repos import catalog
from slotbook.domain.availability import (
    Availability,
    DateOverride,
    OpenHours,
    ServiceHours,
    Span,
    WeeklyHours,
)
from slotbook.domain.errors import InvalidRequest
from slotbook.domain.model import Role
from slotbook.domain.slots import Slot
from slotbook.service_layer import accounts, availability, holds, providers, saved_bookings, sweeper
from slotbook.service_layer.context import Context
from tests import builders
from tests.e2e.http_helpers import count_rows

LONDON_NOW = datetime(2026, 3, 27, 12, tzinfo=UTC)  # clocks go forward on the 29th


async def provider(ctx: Context, timezone: str, minutes: int = 60) -> tuple[UUID, UUID]:
    signed = await accounts.sign_up(
        ctx,
        email=f"p-{timezone.replace('/', '-')}-{minutes}@example.com".lower(),
        password="password123",
        name="P",
        role=Role.PROVIDER,
    )
    provider_id = signed.user.provider_id
    assert provider_id is not None
    await providers.update_profile(ctx, provider_id=provider_id, timezone=timezone)
    service = await providers.add_service(
        ctx,
        provider_id=provider_id,
        name="Cut",
        category="hair",
        duration_minutes=minutes,
        price_minor=50_000,
        currency="THB",
    )
    return provider_id, service.id


def weekly(
    service_id: UUID, start: int, end: int, *breaks: Span, days: range = range(7)
) -> Availability:
    hours = OpenHours(Span(start, end), breaks)
    return Availability(
        services=(ServiceHours(service_id, tuple(WeeklyHours(d, hours) for d in days)),)
    )


async def publish_and_run(ctx: Context, provider_id: UUID, a: Availability) -> None:
    await availability.publish(ctx, provider_id=provider_id, availability=a, timezone=None)
    assert await availability.materialise_due(ctx) == 1


async def slots_of(ctx: Context, provider_id: UUID) -> list[Slot]:
    async with ctx.db.read() as conn:
        f = catalog.SlotFilter(provider_id=provider_id, limit=10_000)
        return await catalog.list_slots(conn, f, now=ctx.clock.now())


def local_starts(found: list[Slot], zone: str, status: str = "available") -> list[str]:
    from zoneinfo import ZoneInfo

    z = ZoneInfo(zone)
    return [s.starts_at.astimezone(z).strftime("%m-%d %H:%M") for s in found if s.status == status]


async def test_london_hours_across_the_change_and_publishing_again_changes_nothing(
    ctx: Context, clock: ManualClock
) -> None:
    clock.set(LONDON_NOW)
    provider_id, service_id = await provider(ctx, "Europe/London")
    await publish_and_run(ctx, provider_id, weekly(service_id, 9 * 60, 12 * 60, Span(600, 660)))
    found = await slots_of(ctx, provider_id)
    days = ctx.settings.availability_horizon_days
    assert len(found) == 2 * days
    starts = local_starts(found, "Europe/London")
    assert starts[:6] == [
        "03-28 09:00",
        "03-28 11:00",
        "03-29 09:00",
        "03-29 11:00",
        "03-30 09:00",
        "03-30 11:00",
    ]
    assert found[2].starts_at == datetime(2026, 3, 29, 8, tzinfo=UTC)  # BST from the 29th
    assert all(s.ends_at - s.starts_at == timedelta(hours=1) for s in found)

    await publish_and_run(ctx, provider_id, weekly(service_id, 9 * 60, 12 * 60, Span(600, 660)))
    assert await slots_of(ctx, provider_id) == found
    assert await availability.materialise_due(ctx) == 0  # not due again for an hour


async def test_removing_hours_closes_only_free_slots_and_held_ones_stay(ctx: Context) -> None:
    provider_id, service_id = await provider(ctx, "Asia/Bangkok")
    await publish_and_run(ctx, provider_id, weekly(service_id, 9 * 60, 11 * 60))
    first, second = (await slots_of(ctx, provider_id))[:2]
    alice, bob = await builders.customer(ctx), await builders.customer(ctx)
    held = await holds.place_hold(ctx, slot_id=first.id, customer_id=alice.id)
    await saved_bookings.save(ctx, customer_id=bob.id, slot_id=second.id, note=None)
    count = await count_rows(ctx, "slots")

    await publish_and_run(ctx, provider_id, Availability())
    after = {s.id: s for s in await slots_of(ctx, provider_id)}
    assert len(after) == count  # closed, not deleted
    assert after[first.id].status == "held"
    assert after[first.id].hold_id == held.hold.id
    assert {s.status for k, s in after.items() if k != first.id} == {"closed"}

    await publish_and_run(ctx, provider_id, weekly(service_id, 9 * 60, 11 * 60))
    again = {s.id: s for s in await slots_of(ctx, provider_id)}
    assert again.keys() == after.keys()  # the same rows reopened
    assert again[second.id].status == "available"
    assert again[first.id].status == "held"


async def test_moved_hours_replace_free_slots_and_skip_what_is_in_the_way(
    ctx: Context, clock: ManualClock
) -> None:
    provider_id, service_id = await provider(ctx, "America/New_York")
    clock.set(datetime(2030, 1, 1, 12, tzinfo=UTC))  # 07:00 in New York
    await publish_and_run(ctx, provider_id, weekly(service_id, 9 * 60, 11 * 60, days=range(1, 2)))
    tuesday, later = (await slots_of(ctx, provider_id))[:2]
    customer = await builders.customer(ctx)
    await holds.place_hold(ctx, slot_id=later.id, customer_id=customer.id)
    manual = await providers.add_slots(
        ctx,
        provider_id=provider_id,
        service_id=service_id,
        starts_at=[datetime(2030, 1, 1, 17, 30, tzinfo=UTC)],  # 12:30 in New York
    )
    await publish_and_run(
        ctx, provider_id, weekly(service_id, 9 * 60 + 30, 13 * 60 + 30, days=range(1, 2))
    )
    found = await slots_of(ctx, provider_id)
    today = [s for s in found if s.starts_at.date() == date(2030, 1, 1)]
    assert tuesday.id not in {s.id for s in found}  # free, never referenced: made room
    assert [(local_starts([s], "America/New_York", s.status)[0][6:], s.status) for s in today] == [
        ("10:00", "held"),  # untouched; 09:30 and 10:30 would overlap it: skipped
        ("11:30", "available"),
        ("12:30", "available"),  # the slot added by hand, kept as it was (12:30 skipped)
    ]
    assert today[2].id == manual[0].id
    next_week = [s for s in found if s.starts_at.date() == date(2030, 1, 8)]
    assert local_starts(next_week, "America/New_York") == [
        "01-08 09:30",
        "01-08 10:30",
        "01-08 11:30",
        "01-08 12:30",
    ]


async def test_days_off_overrides_and_the_horizon_setting(ctx: Context, clock: ManualClock) -> None:
    clock.set(datetime(2030, 1, 6, 17, tzinfo=UTC))  # Monday 7 January, 00:00 in Bangkok
    provider_id, service_id = await provider(ctx, "Asia/Bangkok")
    base = weekly(service_id, 9 * 60, 10 * 60)
    service = ServiceHours(
        service_id,
        base.services[0].weekly,
        (DateOverride(date(2030, 1, 8), (OpenHours(Span(13 * 60, 15 * 60)),)),),
    )
    a = Availability(services=(service,), days_off=frozenset({date(2030, 1, 9)}))
    await publish_and_run(ctx, provider_id, a)
    starts = local_starts(await slots_of(ctx, provider_id), "Asia/Bangkok")
    assert starts[:4] == ["01-07 09:00", "01-08 13:00", "01-08 14:00", "01-10 09:00"]
    assert len(starts) == ctx.settings.availability_horizon_days - 1 + 1  # one day off, one more


async def test_invalid_availability_changes_nothing(ctx: Context) -> None:
    provider_id, _service_id = await provider(ctx, "Asia/Bangkok")
    other_id, other_service = await provider(ctx, "Europe/London", minutes=30)
    with pytest.raises(InvalidRequest) as refused:
        await availability.publish(
            ctx,
            provider_id=provider_id,
            availability=weekly(other_service, 60, 120),
            timezone="Mars/Base",
        )
    assert [e["loc"] for e in refused.value.extra["errors"]] == [
        ["body", "timezone"],
        ["body", "services", 0, "service_id"],
    ]
    view = await availability.get_availability(ctx, provider_id=provider_id)
    assert (view.stored, view.timezone) == (None, "Asia/Bangkok")
    assert await count_rows(ctx, "provider_availability") == 0
    assert other_id != provider_id


async def test_the_sweeper_materialises_and_a_new_time_zone_moves_the_slots(
    ctx: Context, clock: ManualClock
) -> None:
    clock.set(datetime(2030, 1, 6, 17, tzinfo=UTC))
    provider_id, service_id = await provider(ctx, "Asia/Bangkok")
    await availability.publish(
        ctx, provider_id=provider_id, availability=weekly(service_id, 540, 600), timezone=None
    )
    await sweeper.sweep_once(ctx)
    bangkok = [s for s in await slots_of(ctx, provider_id) if s.status == "available"]
    assert bangkok[0].starts_at == datetime(2030, 1, 7, 2, tzinfo=UTC)
    await providers.update_profile(ctx, provider_id=provider_id, timezone="Europe/London")
    await sweeper.sweep_once(ctx)
    london = [s for s in await slots_of(ctx, provider_id) if s.status == "available"]
    assert london[0].starts_at == datetime(2030, 1, 7, 9, tzinfo=UTC)
    assert len(london) == len(bangkok)


async def test_publish_refuses_lists_over_the_limits_whatever_the_caller(ctx: Context) -> None:
    """The limits are the domain's: not only the API's request schema keeps them."""
    provider_id, service_id = await provider(ctx, "Asia/Bangkok")
    first = date(2030, 1, 1)
    thirteen_breaks = tuple(Span(k, k + 1) for k in range(13))
    many = Availability(
        services=(
            ServiceHours(
                service_id,
                weekly=(WeeklyHours(0, OpenHours(Span(0, 1440), thirteen_breaks)),),
            ),
        ),
        days_off=frozenset(first + timedelta(days=r) for r in range(401)),
    )
    with pytest.raises(InvalidRequest) as refused:
        await availability.publish(ctx, provider_id=provider_id, availability=many, timezone=None)
    assert [e["loc"] for e in refused.value.extra["errors"]] == [
        ["body", "services", 0, "weekly", 0, "breaks"],
        ["body", "days_off"],
    ]
    assert (await availability.get_availability(ctx, provider_id=provider_id)).stored is None
