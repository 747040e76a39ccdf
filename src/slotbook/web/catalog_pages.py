"""The catalog in a browser: providers by category with search, a provider's page with
its services and its free slots by day, in the provider's own time zone."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Annotated
from uuid import UUID
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from slotbook.adapters.db.repos.catalog import SlotFilter
from slotbook.domain.errors import ProviderNotFound
from slotbook.domain.slots import Slot
from slotbook.service_layer import catalog
from slotbook.web.pages import ctx_of, not_found, render

router = APIRouter(include_in_schema=False)
DAYS_SHOWN = 14
Text = Annotated[str, Query(max_length=100)]


@router.get("/")
async def home(request: Request, category: Text = "", q: Text = "") -> Response:
    """Every category, and the providers of the chosen one that match the search."""
    ctx = ctx_of(request)
    everyone = await catalog.find_providers(ctx)
    categories = sorted({c for p in everyone for c in p.categories})
    found = await catalog.find_providers(
        ctx, category=category.strip() or None, text=q.strip() or None
    )
    return render(
        request,
        "home.html",
        categories=categories,
        category=category.strip().lower(),
        q=q.strip(),
        providers=found,
    )


def by_day(slots: list[Slot], timezone: str) -> list[tuple[date, list[Slot]]]:
    """Slots grouped by the day they start on in the provider's zone, days in order."""
    zone = ZoneInfo(timezone)
    days: dict[date, list[Slot]] = defaultdict(list)
    for slot in slots:
        days[slot.starts_at.astimezone(zone).date()].append(slot)
    return sorted(days.items())


@router.get("/providers/{provider_id}")
async def provider_page(request: Request, provider_id: UUID) -> Response:
    ctx = ctx_of(request)
    try:
        detail = await catalog.provider_detail(ctx, provider_id=provider_id)
    except ProviderNotFound:
        return not_found(request)
    now = ctx.clock.now()
    query = SlotFilter(
        provider_id=provider_id,
        starts_from=now,
        starts_before=now + timedelta(days=DAYS_SHOWN),
        available_only=True,
        limit=500,
    )
    slots = await catalog.find_slots(ctx, query=query)
    services = {s.id: s for s in detail.services}
    return render(
        request,
        "provider.html",
        provider=detail.provider,
        services=detail.services,
        service_of=services,
        days=by_day(slots, detail.provider.timezone),
    )
