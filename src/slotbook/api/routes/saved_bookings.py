"""Saved bookings, the booking queue: save a slot for later, list, check out, delete.

Checking out answers exactly as POST /v1/holds does for the saved slot (201 hold, 200 the
same hold, 409 with suggestions), Idempotency-Key included; so does saving, which also
answers 200 with the earlier saved booking when the slot was saved before.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header, Request
from starlette.responses import Response

from slotbook.api import render
from slotbook.api.deps import Ctx, CurrentCustomer
from slotbook.api.idempotency import answer_of, response_of
from slotbook.api.routes import documented
from slotbook.api.routes.holds import recover_hold
from slotbook.api.schemas import (
    HoldOut,
    SavedBookingIn,
    SavedBookingOut,
    SavedBookingsOut,
    SlotUnavailableProblem,
)
from slotbook.domain import errors as e
from slotbook.domain.model import Principal
from slotbook.edge.responses import JSON, dumps
from slotbook.service_layer import saved_bookings
from slotbook.service_layer.context import Context
from slotbook.service_layer.idempotency import Answer, run_idempotent

router = APIRouter(prefix="/v1/saved-bookings", tags=["saved bookings"])

IdempotencyKey = Annotated[
    str | None, Header(alias="Idempotency-Key", min_length=1, max_length=255)
]
_SAVE_RESPONSES = documented(201, SavedBookingOut, 401, 403, 404, 409, 422, 503)
_SAVE_RESPONSES[200] = {"model": SavedBookingOut, "description": "The slot was saved before"}
_CHECKOUT_RESPONSES = documented(
    201, HoldOut, 401, 403, 404, 409, 422, 503, p409=SlotUnavailableProblem
)
_CHECKOUT_RESPONSES[200] = {"model": HoldOut, "description": "The slot was already yours"}


@router.post("", status_code=201, responses=_SAVE_RESPONSES)
async def save(
    body: SavedBookingIn,
    request: Request,
    principal: CurrentCustomer,
    ctx: Ctx,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Save a slot to pay for later; it locks nothing."""

    async def handle(saved_id: UUID | None = None) -> Response:
        found = await saved_bookings.save(
            ctx,
            customer_id=principal.user_id,
            slot_id=body.slot_id,
            note=body.note,
            saved_id=saved_id,
        )
        created = found.created or found.saved.id == saved_id
        payload = render.saved_booking(found.saved, found.slot, ctx.clock.now())
        return JSON(payload, status_code=201 if created else 200)

    async def recover(saved_id: UUID) -> Answer | None:
        try:
            found = await saved_bookings.get_saved(
                ctx, saved_id=saved_id, customer_id=principal.user_id
            )
        except e.SavedBookingNotFound:
            return None
        return Answer(201, dumps(render.saved_booking(found.saved, found.slot, ctx.clock.now())))

    if idempotency_key is None:
        return await handle()
    answer = await run_idempotent(
        ctx,
        user_id=principal.user_id,
        endpoint="POST /v1/saved-bookings",
        key=idempotency_key,
        request_body=await request.body(),
        handle=lambda saved_id: answer_of(handle(saved_id)),
        recover=recover,
    )
    return response_of(answer)


@router.get("", responses=documented(200, SavedBookingsOut, 401, 403))
async def list_saved(principal: CurrentCustomer, ctx: Ctx) -> JSON:
    """The customer's saved bookings, soonest slot first, each slot as it reads now."""
    found = await saved_bookings.list_saved(ctx, customer_id=principal.user_id)
    now = ctx.clock.now()
    return JSON({"saved_bookings": [render.saved_booking(s, slot, now) for s, slot in found]})


@router.get("/{saved_id}", responses=documented(200, SavedBookingOut, 401, 403, 404, 422))
async def get_saved(saved_id: UUID, principal: CurrentCustomer, ctx: Ctx) -> JSON:
    found = await saved_bookings.get_saved(ctx, saved_id=saved_id, customer_id=principal.user_id)
    return JSON(render.saved_booking(found.saved, found.slot, ctx.clock.now()))


@router.post("/{saved_id}/checkout", status_code=201, responses=_CHECKOUT_RESPONSES)
async def checkout(
    saved_id: UUID, principal: CurrentCustomer, ctx: Ctx, idempotency_key: IdempotencyKey = None
) -> Response:
    """Hold the saved slot now: exactly as POST /v1/holds answers for it."""
    if idempotency_key is None:
        return await _checkout(ctx, principal, saved_id)
    answer = await run_idempotent(
        ctx,
        user_id=principal.user_id,
        endpoint="POST /v1/saved-bookings/checkout",
        key=idempotency_key,
        request_body=saved_id.bytes,  # the same key for another saved booking: 422
        handle=lambda hold_id: answer_of(_checkout(ctx, principal, saved_id, hold_id=hold_id)),
        recover=lambda hold_id: recover_hold(ctx, principal, hold_id),
    )
    return response_of(answer)


async def _checkout(
    ctx: Context, principal: Principal, saved_id: UUID, *, hold_id: UUID | None = None
) -> Response:
    placed = await saved_bookings.checkout(
        ctx, saved_id=saved_id, customer_id=principal.user_id, hold_id=hold_id
    )
    created = placed.created or placed.hold.id == hold_id
    return JSON(render.hold(placed.hold), status_code=201 if created else 200)


@router.delete(
    "/{saved_id}",
    status_code=204,
    responses={204: {"description": "Deleted"}, **documented(204, None, 401, 403, 404, 422)},
)
async def delete_saved(saved_id: UUID, principal: CurrentCustomer, ctx: Ctx) -> Response:
    """Forget the saved booking; its slot is untouched."""
    await saved_bookings.delete_saved(ctx, saved_id=saved_id, customer_id=principal.user_id)
    return Response(status_code=204)
