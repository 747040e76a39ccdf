"""What a page says about a slot: its provider and service, read through the service layer."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from slotbook.domain.model import Provider, Service
from slotbook.domain.slots import Slot
from slotbook.domain.suggestions import Suggestion
from slotbook.service_layer import catalog
from slotbook.service_layer.context import Context


@dataclass(frozen=True, slots=True)
class SlotView:
    slot: Slot
    provider: Provider
    service: Service | None


async def slot_view(ctx: Context, slot_id: UUID) -> SlotView:
    slot = await catalog.get_slot(ctx, slot_id=slot_id)
    detail = await catalog.provider_detail(ctx, provider_id=slot.provider_id)
    service = next((s for s in detail.services if s.id == slot.service_id), None)
    return SlotView(slot, detail.provider, service)


@dataclass(frozen=True, slots=True)
class Offer:
    suggestion: Suggestion
    provider: Provider
    service: Service | None


async def offers(ctx: Context, suggestions: list[Suggestion]) -> list[Offer]:
    """Each alternative with the provider and service it belongs to."""
    found: list[Offer] = []
    details: dict[UUID, catalog.ProviderDetail] = {}
    for s in suggestions:
        if s.provider_id not in details:
            details[s.provider_id] = await catalog.provider_detail(ctx, provider_id=s.provider_id)
        detail = details[s.provider_id]
        service = next((x for x in detail.services if x.id == s.service_id), None)
        found.append(Offer(s, detail.provider, service))
    return found
