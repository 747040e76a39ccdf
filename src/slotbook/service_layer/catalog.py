"""The public catalog: providers, their services and slots (no login needed)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from slotbook.adapters.db.repos import catalog
from slotbook.adapters.db.repos.catalog import SlotFilter
from slotbook.domain.errors import ProviderNotFound, SlotNotFound
from slotbook.domain.model import Provider, Service
from slotbook.domain.slots import Slot
from slotbook.service_layer.context import Context


@dataclass(frozen=True, slots=True)
class ProviderDetail:
    provider: Provider
    services: list[Service]


async def find_providers(
    ctx: Context, *, category: str | None = None, text: str | None = None
) -> list[Provider]:
    async with ctx.db.read() as conn:
        return await catalog.list_providers(
            conn, category=category.lower() if category else None, text=text
        )


async def provider_detail(ctx: Context, *, provider_id: UUID) -> ProviderDetail:
    async with ctx.db.read() as conn:
        provider = await catalog.get_provider(conn, provider_id)
        if provider is None:
            raise ProviderNotFound(f"no provider {provider_id}")
        return ProviderDetail(provider, await catalog.list_services(conn, provider_id))


async def find_slots(ctx: Context, *, query: SlotFilter) -> list[Slot]:
    """Slots ordered by start time; `available_only` keeps those free to hold now."""
    async with ctx.db.read() as conn:
        if query.provider_id and await catalog.get_provider(conn, query.provider_id) is None:
            raise ProviderNotFound(f"no provider {query.provider_id}")
        return await catalog.list_slots(conn, query, now=ctx.clock.now())


async def get_slot(ctx: Context, *, slot_id: UUID) -> Slot:
    async with ctx.db.read() as conn:
        slot = await catalog.get_slot(conn, slot_id)
    if slot is None:
        raise SlotNotFound(f"no slot {slot_id}")
    return slot
