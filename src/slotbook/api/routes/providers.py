"""The provider side: acting on its own profile, services and slots."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from slotbook.api import render
from slotbook.api.deps import Ctx, CurrentProvider
from slotbook.api.payment_schemas import BookingsOut
from slotbook.api.routes import documented
from slotbook.api.routes.catalog import Available, From, Limit, To, slots_of_provider
from slotbook.api.schemas import ProfilePatch, ProviderOut, ServiceIn, ServiceOut, SlotsIn, SlotsOut
from slotbook.domain.errors import ProviderNotFound
from slotbook.domain.model import Principal
from slotbook.edge.responses import JSON
from slotbook.service_layer import accounts, bookings, catalog, providers
from slotbook.service_layer.context import Context

router = APIRouter(prefix="/v1/providers/me", tags=["provider side"])


async def own_provider_id(ctx: Context, principal: Principal) -> UUID:
    user = await accounts.current_user(ctx, principal.user_id)
    if user.provider_id is None:
        raise ProviderNotFound("this account has no provider profile")
    return user.provider_id


@router.get("", responses=documented(200, ProviderOut, 401, 403))
async def own_profile(principal: CurrentProvider, ctx: Ctx) -> JSON:
    """The provider's own profile, as the catalog shows it."""
    detail = await catalog.provider_detail(ctx, provider_id=await own_provider_id(ctx, principal))
    return JSON(render.provider(detail.provider))


@router.patch("", responses=documented(200, ProviderOut, 401, 403, 422))
async def update_profile(body: ProfilePatch, principal: CurrentProvider, ctx: Ctx) -> JSON:
    provider = await providers.update_profile(
        ctx,
        provider_id=await own_provider_id(ctx, principal),
        display_name=body.display_name,
        timezone=body.timezone,
        bio=body.bio,
    )
    return JSON(render.provider(provider))


@router.post("/services", status_code=201, responses=documented(201, ServiceOut, 401, 403, 422))
async def add_service(body: ServiceIn, principal: CurrentProvider, ctx: Ctx) -> JSON:
    service = await providers.add_service(
        ctx,
        provider_id=await own_provider_id(ctx, principal),
        name=body.name,
        category=body.category,
        duration_minutes=body.duration_minutes,
        price_minor=body.price_minor,
        currency=body.currency,
    )
    return JSON(render.service(service), status_code=201)


@router.post(
    "/slots", status_code=201, responses=documented(201, SlotsOut, 401, 403, 404, 409, 422)
)
async def add_slots(body: SlotsIn, principal: CurrentProvider, ctx: Ctx) -> JSON:
    """Create slots in bulk; if any would overlap, none is created (409)."""
    created = await providers.add_slots(
        ctx,
        provider_id=await own_provider_id(ctx, principal),
        service_id=body.service_id,
        starts_at=body.starts_at,
    )
    return JSON(render.slots(created, ctx.clock.now()), status_code=201)


@router.get("/slots", responses=documented(200, SlotsOut, 401, 403, 422))
async def own_slots(
    principal: CurrentProvider,
    ctx: Ctx,
    from_: From = None,
    to: To = None,
    available: Available = False,
    limit: Limit = 500,
) -> JSON:
    """The provider's own slots, ordered by start, whatever their status."""
    own = await own_provider_id(ctx, principal)
    return await slots_of_provider(ctx, own, from_, to, available, limit)


@router.get("/bookings", responses=documented(200, BookingsOut, 401, 403))
async def own_bookings(principal: CurrentProvider, ctx: Ctx) -> JSON:
    """The provider's own bookings, newest first (as `GET /v1/bookings` answers them)."""
    found = await bookings.list_bookings(ctx, principal=principal)
    return JSON({"bookings": [render.booking(b) for b in found]})
