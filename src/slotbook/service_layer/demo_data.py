"""Demo data: a dozen Bangkok providers, their services and their slots.

The first provider (the demo provider, whose login is printed) publishes weekly hours and
its slots are materialised from them at once; the others have 14 days of slots added by
hand.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from slotbook.adapters.db.repos import users
from slotbook.domain.availability import Availability, OpenHours, ServiceHours, Span, WeeklyHours
from slotbook.domain.errors import EmailTaken
from slotbook.domain.model import Role
from slotbook.service_layer import accounts, availability, providers
from slotbook.service_layer.context import Context

BANGKOK = ZoneInfo("Asia/Bangkok")
DEMO_CUSTOMER = ("customer@demo.slotbook.app", "slotbook-demo")
DEMO_PROVIDER_EMAIL = "provider1@demo.slotbook.app"
# the demo provider: Monday to Saturday 10:00-19:00 with lunch 13:00-14:00, Sunday off
DEMO_HOURS = OpenHours(Span(10 * 60, 19 * 60), (Span(13 * 60, 14 * 60),))
DAYS = 14

# (display name, category, service, minutes, price in satang)
PROVIDERS: tuple[tuple[str, str, str, int, int], ...] = (
    ("Sukhumvit Thai Massage", "massage", "Traditional Thai massage", 60, 45_000),
    ("Silom Foot Spa", "massage", "Foot reflexology", 60, 35_000),
    ("Ari Oil & Herbal", "massage", "Herbal compress massage", 90, 80_000),
    ("Thonglor Hair Studio", "hair", "Cut and style", 60, 90_000),
    ("Ekkamai Barber Club", "hair", "Classic barber cut", 30, 40_000),
    ("Siam Colour Bar", "hair", "Colour treatment", 120, 250_000),
    ("Sathorn Dental Care", "dental", "Check-up and cleaning", 45, 150_000),
    ("Phrom Phong Smile Clinic", "dental", "Teeth whitening", 60, 450_000),
    ("Chatuchak Yoga Shala", "yoga", "Private yoga lesson", 60, 120_000),
    ("Riverside Pilates", "yoga", "Reformer pilates", 60, 140_000),
    ("Ratchada Nail Lounge", "nails", "Gel manicure", 60, 55_000),
    ("Bang Rak Beauty Nails", "nails", "Spa pedicure", 60, 60_000),
)


@dataclass(frozen=True, slots=True)
class DemoLogin:
    email: str
    password: str
    created: bool
    provider_email: str = DEMO_PROVIDER_EMAIL


async def load_demo_data(ctx: Context) -> DemoLogin:
    """Load the demo catalog once; later calls leave it as it is."""
    email, password = DEMO_CUSTOMER
    async with ctx.db.read() as conn:
        if await users.user_by_email(conn, email) is not None:
            return DemoLogin(email, password, created=False)
    first_day = ctx.clock.now().astimezone(BANGKOK).date() + timedelta(days=1)
    for index, (name, category, service_name, minutes, price) in enumerate(PROVIDERS):
        signed = await accounts.sign_up(
            ctx,
            email=f"provider{index + 1}@demo.slotbook.app",
            password=password,
            name=name,
            role=Role.PROVIDER,
        )
        provider_id = signed.user.provider_id
        assert provider_id is not None
        service = await providers.add_service(
            ctx,
            provider_id=provider_id,
            name=service_name,
            category=category,
            duration_minutes=minutes,
            price_minor=price,
            currency="THB",
        )
        if index == 0:
            await _weekly_hours(ctx, provider_id, service.id)
            continue
        starts = [
            datetime.combine(first_day + timedelta(days=d), time(hour), BANGKOK)
            for d in range(DAYS)
            for hour in range(9, 18, max(1, -(-minutes // 60)))
        ]
        await providers.add_slots(
            ctx, provider_id=provider_id, service_id=service.id, starts_at=starts
        )
    with suppress(EmailTaken):
        await accounts.sign_up(
            ctx, email=email, password=password, name="Demo Customer", role=Role.CUSTOMER
        )
    return DemoLogin(email, password, created=True)


async def _weekly_hours(ctx: Context, provider_id: UUID, service_id: UUID) -> None:
    """Publish the demo provider's weekly hours and open its slots from them now."""
    weekly = tuple(WeeklyHours(day, DEMO_HOURS) for day in range(6))
    hours = Availability(services=(ServiceHours(service_id, weekly),))
    await availability.publish(ctx, provider_id=provider_id, availability=hours, timezone=None)
    await availability.materialise(ctx, provider_id=provider_id)
