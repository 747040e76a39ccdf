"""A customer's bookings (upcoming and past, with the escrow), one booking with its
calendar file, and the provider's bookings with "mark completed"."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from slotbook.domain import errors as e
from slotbook.domain.bookings import Booking
from slotbook.domain.model import Principal, Role
from slotbook.domain.states import BookingStatus, may_complete
from slotbook.service_layer import bookings
from slotbook.service_layer.context import Context
from slotbook.web.calendar import ics_of
from slotbook.web.describe import SlotView, slot_view
from slotbook.web.pages import ctx_of, not_found, render, see_other, to_login
from slotbook.web.saved_pages import saved_rows
from slotbook.web.session import check_form, principal_of

router = APIRouter(include_in_schema=False)
Field = Annotated[str, Form()]


Rows = list[tuple[Booking, SlotView]]
Action = Callable[..., Awaitable[Booking]]


async def _viewed(ctx: Context, found: list[Booking]) -> Rows:
    return [(b, await slot_view(ctx, b.slot_id)) for b in found]


def _split(ctx: Context, rows: Rows) -> tuple[Rows, Rows]:
    """Upcoming (soonest first) and past (latest first), by when the slot starts: only a
    past one (started) may be marked completed."""
    now = ctx.clock.now()
    upcoming = [r for r in rows if not may_complete(r[1].slot.starts_at, now)]
    past = [r for r in rows if may_complete(r[1].slot.starts_at, now)]
    upcoming.sort(key=lambda r: r[1].slot.starts_at)
    past.sort(key=lambda r: r[1].slot.starts_at, reverse=True)
    return upcoming, past


@router.get("/me/bookings")
async def my_bookings(request: Request) -> Response:
    ctx = ctx_of(request)
    who = principal_of(ctx, request)
    if who is None:
        return to_login(request)
    if who.role is Role.PROVIDER:
        return see_other("/provider/bookings")
    rows = await _viewed(ctx, await bookings.list_bookings(ctx, principal=who))
    upcoming, past = _split(ctx, rows)
    saved = await saved_rows(ctx, who)
    return render(
        request, "my_bookings.html", principal=who, upcoming=upcoming, past=past, saved=saved
    )


@router.get("/provider/bookings")
async def provider_bookings(request: Request) -> Response:
    ctx = ctx_of(request)
    who = principal_of(ctx, request)
    if who is None:
        return to_login(request)
    if who.role is not Role.PROVIDER:
        return see_other("/me/bookings")
    rows = await _viewed(ctx, await bookings.list_bookings(ctx, principal=who))
    upcoming, past = _split(ctx, rows)
    return render(request, "provider_bookings.html", principal=who, upcoming=upcoming, past=past)


async def _one(ctx: Context, who: Principal, booking_id: UUID) -> Booking | None:
    try:
        return await bookings.get_booking(ctx, booking_id=booking_id, principal=who)
    except e.BookingNotFound:
        return None


@router.get("/bookings/{booking_id}")
async def booking_page(request: Request, booking_id: UUID) -> Response:
    ctx = ctx_of(request)
    who = principal_of(ctx, request)
    if who is None:
        return to_login(request)
    booking = await _one(ctx, who, booking_id)
    if booking is None:
        return not_found(request, who)
    view = await slot_view(ctx, booking.slot_id)
    return render(request, "booking.html", principal=who, booking=booking, view=view)


@router.get("/bookings/{booking_id}/calendar.ics")
async def booking_calendar(request: Request, booking_id: UUID) -> Response:
    """The confirmed booking as an iCalendar event, to add to one's calendar."""
    ctx = ctx_of(request)
    who = principal_of(ctx, request)
    if who is None:
        return to_login(request)
    booking = await _one(ctx, who, booking_id)
    if booking is None or booking.status is not BookingStatus.CONFIRMED:
        return not_found(request, who)
    view = await slot_view(ctx, booking.slot_id)
    return Response(
        ics_of(booking, view, stamp=ctx.clock.now()),
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="slotbook-{booking.id}.ics"'},
    )


@router.post("/bookings/{booking_id}/cancel")
async def cancel_booking(request: Request, booking_id: UUID, csrf: Field) -> Response:
    check_form(request, csrf)
    return await _act(request, booking_id, bookings.cancel_booking)


@router.post("/bookings/{booking_id}/complete")
async def complete_booking(request: Request, booking_id: UUID, csrf: Field) -> Response:
    check_form(request, csrf)
    return await _act(request, booking_id, bookings.complete_booking)


async def _act(request: Request, booking_id: UUID, action: Action) -> Response:
    ctx = ctx_of(request)
    who = principal_of(ctx, request)
    if who is None:
        return to_login(request, f"/bookings/{booking_id}")
    try:
        await action(ctx, booking_id=booking_id, principal=who)
    except e.BookingNotFound:
        return not_found(request, who)
    except e.Forbidden:
        return render(request, "message.html", 403, principal=who, message="not-yours-to-do")
    except e.BookingNotStarted:
        return render(request, "message.html", 409, principal=who, message="not-started")
    except e.BookingNotActive:
        pass  # already moved on: the page shows how it is now
    back = "/provider/bookings" if who.role is Role.PROVIDER else f"/bookings/{booking_id}"
    return see_other(back)
