"""The public catalog: no login needed."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from slotbook.adapters.db.repos.catalog import SlotFilter
from slotbook.api import render
from slotbook.api.deps import Ctx
from slotbook.api.routes import documented
from slotbook.api.schemas import Instant, ProviderDetailOut, ProvidersOut, SlotOut, SlotsOut, Text
from slotbook.edge.responses import JSON
from slotbook.service_layer import catalog
from slotbook.service_layer.context import Context

router = APIRouter(tags=["catalog"])

Category = Annotated[Text | None, Query(max_length=64)]
Search = Annotated[Text | None, Query(max_length=100)]
From = Annotated[Instant | None, Query(alias="from")]
To = Annotated[Instant | None, Query()]
Available = Annotated[bool, Query()]
Limit = Annotated[int, Query(ge=1, le=1000)]


@router.get("/v1/providers", responses=documented(200, ProvidersOut, 422))
async def list_providers(ctx: Ctx, category: Category = None, q: Search = None) -> JSON:
    found = await catalog.find_providers(ctx, category=category, text=q)
    return JSON({"providers": [render.provider(p) for p in found]})


@router.get("/v1/providers/{provider_id}", responses=documented(200, ProviderDetailOut, 404, 422))
async def provider_detail(provider_id: UUID, ctx: Ctx) -> JSON:
    detail = await catalog.provider_detail(ctx, provider_id=provider_id)
    return JSON(
        {
            **render.provider(detail.provider),
            "services": [render.service(s) for s in detail.services],
        }
    )


@router.get("/v1/providers/{provider_id}/slots", responses=documented(200, SlotsOut, 404, 422))
async def provider_slots(
    provider_id: UUID,
    ctx: Ctx,
    from_: From = None,
    to: To = None,
    available: Available = False,
    limit: Limit = 500,
) -> JSON:
    return await slots_of_provider(ctx, provider_id, from_, to, available, limit)


async def slots_of_provider(
    ctx: Context,
    provider_id: UUID,
    from_: datetime | None,
    to: datetime | None,
    available: bool,
    limit: int,
) -> JSON:
    """One provider's slots by start, as the public and the provider's own listing answer."""
    query = SlotFilter(
        provider_id=provider_id,
        starts_from=from_,
        starts_before=to,
        available_only=available,
        limit=limit,
    )
    return JSON(render.slots(await catalog.find_slots(ctx, query=query), ctx.clock.now()))


@router.get("/v1/slots", responses=documented(200, SlotsOut, 422))
async def list_slots(
    ctx: Ctx,
    category: Category = None,
    from_: From = None,
    to: To = None,
    available: Available = False,
    limit: Limit = 500,
) -> JSON:
    query = SlotFilter(
        category=category.lower() if category else None,
        starts_from=from_,
        starts_before=to,
        available_only=available,
        limit=limit,
    )
    return JSON(render.slots(await catalog.find_slots(ctx, query=query), ctx.clock.now()))


@router.get("/v1/slots/{slot_id}", responses=documented(200, SlotOut, 404, 422))
async def get_slot(slot_id: UUID, ctx: Ctx) -> JSON:
    return JSON(render.slot(await catalog.get_slot(ctx, slot_id=slot_id), ctx.clock.now()))
