"""Bookings: a customer's own, a provider's own, all of them for an admin."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from slotbook.api import render
from slotbook.api.deps import Ctx, CurrentUser
from slotbook.api.payment_schemas import BookingOut, BookingsOut
from slotbook.api.routes import documented
from slotbook.edge.responses import JSON
from slotbook.service_layer import bookings

router = APIRouter(tags=["bookings"])


@router.get("/v1/bookings", responses=documented(200, BookingsOut, 401))
async def list_bookings(principal: CurrentUser, ctx: Ctx) -> JSON:
    found = await bookings.list_bookings(ctx, principal=principal)
    return JSON({"bookings": [render.booking(b) for b in found]})


@router.get("/v1/bookings/{booking_id}", responses=documented(200, BookingOut, 401, 404, 422))
async def get_booking(booking_id: UUID, principal: CurrentUser, ctx: Ctx) -> JSON:
    booking = await bookings.get_booking(ctx, booking_id=booking_id, principal=principal)
    return JSON(render.booking(booking))


_COMPLETE_RESPONSES = documented(200, BookingOut, 401, 403, 404, 409, 422)
_COMPLETE_RESPONSES[403]["description"] = "A customer: only the provider or an admin completes"
_COMPLETE_RESPONSES[409]["description"] = (
    "booking-not-active: no longer confirmed; or booking-not-started: its slot has not "
    "started yet (the service cannot have been delivered), nothing changed"
)
_CANCEL_RESPONSES = documented(200, BookingOut, 401, 403, 404, 409, 422)
_CANCEL_RESPONSES[403]["description"] = "An admin: only the customer or the provider cancels"
_CANCEL_RESPONSES[409]["description"] = "booking-not-active: no longer confirmed"


@router.post("/v1/bookings/{booking_id}/complete", responses=_COMPLETE_RESPONSES)
async def complete_booking(booking_id: UUID, principal: CurrentUser, ctx: Ctx) -> JSON:
    """The provider (own booking) or an admin, once the slot has started: delivered, escrow
    released to the provider."""
    booking = await bookings.complete_booking(ctx, booking_id=booking_id, principal=principal)
    return JSON(render.booking(booking))


@router.post("/v1/bookings/{booking_id}/cancel", responses=_CANCEL_RESPONSES)
async def cancel_booking(booking_id: UUID, principal: CurrentUser, ctx: Ctx) -> JSON:
    """The customer or the provider (own booking): cancelled, escrow refunded in full."""
    booking = await bookings.cancel_booking(ctx, booking_id=booking_id, principal=principal)
    return JSON(render.booking(booking))
