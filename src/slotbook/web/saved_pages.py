"""Saved bookings in a browser: "save for later" on a time, the saved list in "My
bookings" with each slot as it reads now, "confirm and pay" (a hold, then the hold page;
the alternatives when the time was lost) and delete."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from slotbook.domain import errors as e
from slotbook.domain.model import Principal, Role
from slotbook.service_layer import saved_bookings
from slotbook.service_layer.context import Context
from slotbook.web.describe import SlotView, offers, slot_view
from slotbook.web.pages import ctx_of, not_found, render, see_other, to_login
from slotbook.web.session import check_form, principal_of

router = APIRouter(include_in_schema=False)
Field = Annotated[str, Form()]
SAVED_LIST = "/me/bookings#saved"


async def saved_rows(ctx: Context, who: Principal) -> list[tuple[UUID, SlotView, str]]:
    """The customer's saved bookings, soonest first: id, the slot's view, its status now."""
    now = ctx.clock.now()
    found = await saved_bookings.list_saved(ctx, customer_id=who.user_id)
    return [
        (saved.id, await slot_view(ctx, slot.id), str(slot.status_at(now))) for saved, slot in found
    ]


def _customer(ctx: Context, request: Request) -> Principal | Response:
    who = principal_of(ctx, request)
    if who is None:
        return to_login(request, "/me/bookings")
    if who.role is not Role.CUSTOMER:
        return render(request, "message.html", 403, principal=who, message="customers-only")
    return who


@router.post("/saved")
async def save(request: Request, slot_id: Annotated[UUID, Form()], csrf: Field) -> Response:
    """Save the time for later (nothing is locked); saving it again keeps the one."""
    check_form(request, csrf)
    ctx = ctx_of(request)
    who = _customer(ctx, request)
    if isinstance(who, Response):
        return who
    try:
        await saved_bookings.save(ctx, customer_id=who.user_id, slot_id=slot_id, note=None)
    except e.SlotNotFound:
        return not_found(request, who)
    except e.SlotStarted:
        return render(request, "message.html", 409, principal=who, message="slot-started")
    except e.TooManySaved:
        return render(request, "message.html", 409, principal=who, message="too-many-saved")
    return see_other(SAVED_LIST)


@router.post("/saved/{saved_id}/checkout")
async def checkout(request: Request, saved_id: UUID, csrf: Field) -> Response:
    """Confirm and pay: hold the saved time now and go to its hold page."""
    check_form(request, csrf)
    ctx = ctx_of(request)
    who = _customer(ctx, request)
    if isinstance(who, Response):
        return who
    try:
        placed = await saved_bookings.checkout(ctx, saved_id=saved_id, customer_id=who.user_id)
    except e.SavedBookingNotFound:
        return not_found(request, who)
    except e.SlotUnavailable as exc:
        found = await saved_bookings.get_saved(ctx, saved_id=saved_id, customer_id=who.user_id)
        return render(
            request,
            "lost.html",
            409,
            principal=who,
            reason="taken",
            view=await slot_view(ctx, found.slot.id),
            offers=await offers(ctx, exc.suggestions),
        )
    except e.SlotStarted:
        return render(request, "message.html", 409, principal=who, message="slot-started")
    except e.HoldContended:
        return see_other(SAVED_LIST)  # nothing decided; the list shows how it is now
    return see_other(f"/holds/{placed.hold.id}")


@router.post("/saved/{saved_id}/delete")
async def delete(request: Request, saved_id: UUID, csrf: Field) -> Response:
    check_form(request, csrf)
    ctx = ctx_of(request)
    who = _customer(ctx, request)
    if isinstance(who, Response):
        return who
    try:
        await saved_bookings.delete_saved(ctx, saved_id=saved_id, customer_id=who.user_id)
    except e.SavedBookingNotFound:
        return not_found(request, who)
    return see_other(SAVED_LIST)
