"""The public catalog: no login needed."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from slotbook.adapters.db.repos.catalog import SlotFilter
from slotbook.api import render
from slotbook.api.deps import Ctx
from slotbook.api.responses import JSON
from slotbook.api.routes import documented
from slotbook.api.schemas import ProviderDetailOut, ProvidersOut, SlotOut, SlotsOut
from slotbook.service_layer import catalog

router = APIRouter(tags=["catalog"])

Category = Annotated[str | None, Query(max_length=64)]
From = Annotated[AwareDatetime | None, Query(alias="from")]
To = Annotated[AwareDatetime | None, Query()]
Available = Annotated[bool, Query()]
Limit = Annotated[int, Query(ge=1, le=1000)]


@router.get("/v1/providers", responses=documented(200, ProvidersOut, 422))
async def list_providers(
    ctx: Ctx, category: Category = None, q: Annotated[str | None, Query(max_length=100)] = None
) -> JSON:
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
