"""The provider's weekly hours: `GET` and `PUT /v1/providers/me/availability`.

A PUT replaces the whole document and answers it as stored; the worker then opens,
reopens and closes slots from it (see service_layer/availability.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from slotbook.api.availability_schemas import (
    AvailabilityIn,
    AvailabilityOut,
    HoursIn,
    ServiceAvailabilityIn,
)
from slotbook.api.deps import Ctx, CurrentProvider
from slotbook.api.routes import documented
from slotbook.api.routes.providers import own_provider_id
from slotbook.domain.availability import (
    WEEKDAYS,
    Availability,
    DateOverride,
    OpenHours,
    ServiceHours,
    Span,
    WeeklyHours,
)
from slotbook.domain.validation import wall_minutes
from slotbook.edge.responses import JSON
from slotbook.service_layer import availability
from slotbook.service_layer.availability import View

router = APIRouter(prefix="/v1/providers/me/availability", tags=["provider side"])


@router.get("", responses=documented(200, AvailabilityOut, 401, 403))
async def get_availability(principal: CurrentProvider, ctx: Ctx) -> JSON:
    """The provider's weekly hours as last published, and whether slots follow them yet."""
    view = await availability.get_availability(
        ctx, provider_id=await own_provider_id(ctx, principal)
    )
    return JSON(_render(view))


@router.put("", responses=documented(200, AvailabilityOut, 401, 403, 422))
async def put_availability(body: AvailabilityIn, principal: CurrentProvider, ctx: Ctx) -> JSON:
    """Replace the weekly hours, days off and date overrides, all or nothing (422 lists
    every rule broken); slots follow within a moment."""
    view = await availability.publish(
        ctx,
        provider_id=await own_provider_id(ctx, principal),
        availability=_availability(body),
        timezone=body.timezone,
    )
    return JSON(_render(view))


def _hours(h: HoursIn) -> OpenHours:
    return OpenHours(
        Span(wall_minutes(h.start), wall_minutes(h.end)),
        tuple(Span(wall_minutes(b.start), wall_minutes(b.end)) for b in h.breaks),
    )


def _service(s: ServiceAvailabilityIn) -> ServiceHours:
    return ServiceHours(
        service_id=s.service_id,
        weekly=tuple(WeeklyHours(WEEKDAYS.index(w.weekday), _hours(w)) for w in s.weekly),
        overrides=tuple(
            DateOverride(o.date, tuple(_hours(h) for h in o.hours)) for o in s.overrides
        ),
    )


def _availability(body: AvailabilityIn) -> Availability:
    return Availability(
        services=tuple(_service(s) for s in body.services), days_off=frozenset(body.days_off)
    )


def _wall(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _open(h: OpenHours) -> dict[str, Any]:
    return {
        "start": _wall(h.span.start),
        "end": _wall(h.span.end),
        "breaks": [{"start": _wall(b.start), "end": _wall(b.end)} for b in h.breaks],
    }


def _render(view: View) -> dict[str, Any]:
    stored = view.stored
    published = stored.availability if stored else Availability()
    return {
        "provider_id": view.provider_id,
        "timezone": view.timezone,
        "horizon_days": view.horizon_days,
        "services": [
            {
                "service_id": s.service_id,
                "weekly": [{"weekday": WEEKDAYS[w.weekday], **_open(w.hours)} for w in s.weekly],
                "overrides": [
                    {"date": o.day.isoformat(), "hours": [_open(h) for h in o.hours]}
                    for o in s.overrides
                ],
            }
            for s in published.services
        ],
        "days_off": sorted(d.isoformat() for d in published.days_off),
        "version": stored.version if stored else 0,
        "updated_at": stored.updated_at if stored else None,
        "materialised_version": stored.materialised_version if stored else None,
        "materialised_at": stored.materialised_at if stored else None,
    }
