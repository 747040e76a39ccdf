"""Bookings: read them with tenancy, complete them (escrow to the provider, minus the
platform's fee) or cancel them (escrow back to the customer, through the gateway)."""

from __future__ import annotations

from uuid import UUID

from slotbook.adapters.db import locking
from slotbook.adapters.db.engine import Connection
from slotbook.adapters.db.repos import bookings as booking_repo
from slotbook.adapters.db.repos import ledger, settlement, users
from slotbook.adapters.db.repos import payments as payment_repo
from slotbook.domain import ledger as rules
from slotbook.domain.bookings import CANCELLED_BY, COMPLETED_BY, Booking
from slotbook.domain.errors import BookingNotActive, BookingNotFound, Forbidden, InvalidToken
from slotbook.domain.model import Principal, Role
from slotbook.domain.slots import Slot
from slotbook.domain.states import BookingStatus
from slotbook.service_layer import payment_outcomes as outcomes
from slotbook.service_layer.context import Context


async def _provider_of(ctx: Context, principal: Principal) -> UUID | None:
    async with ctx.db.read() as conn:
        user = await users.user_by_id(conn, principal.user_id)
    if user is None:
        raise InvalidToken("the account no longer exists")
    return user.provider_id


def _visible(booking: Booking, principal: Principal, provider_id: UUID | None) -> bool:
    if principal.role is Role.ADMIN:
        return True
    if principal.role is Role.CUSTOMER:
        return booking.customer_id == principal.user_id
    return provider_id is not None and booking.provider_id == provider_id


async def list_bookings(ctx: Context, *, principal: Principal) -> list[Booking]:
    """A customer's own, a provider's own, every booking for an admin; newest first."""
    async with ctx.db.read() as conn:
        if principal.role is Role.ADMIN:
            return await booking_repo.list_bookings(conn)
        if principal.role is Role.CUSTOMER:
            return await booking_repo.list_bookings(conn, customer_id=principal.user_id)
    provider_id = await _provider_of(ctx, principal)
    if provider_id is None:
        return []
    async with ctx.db.read() as conn:
        return await booking_repo.list_bookings(conn, provider_id=provider_id)


async def get_booking(ctx: Context, *, booking_id: UUID, principal: Principal) -> Booking:
    """The booking if the caller may see it; BookingNotFound otherwise (never 403)."""
    provider_id = await _provider_of(ctx, principal) if principal.role is Role.PROVIDER else None
    async with ctx.db.read() as conn:
        booking = await booking_repo.get_booking(conn, booking_id)
    if booking is None or not _visible(booking, principal, provider_id):
        raise BookingNotFound(f"no booking {booking_id}")
    return booking


async def complete_booking(ctx: Context, *, booking_id: UUID, principal: Principal) -> Booking:
    """The service was delivered (the provider's own booking, or an admin): the escrow
    goes to the provider, minus the platform fee. Only once the slot has started
    (BookingNotStarted before); a customer is refused (Forbidden) whoever's booking it is."""
    if principal.role not in COMPLETED_BY:
        raise Forbidden("a booking is completed by its provider or an admin")
    seen = await get_booking(ctx, booking_id=booking_id, principal=principal)
    now = ctx.clock.now()
    async with ctx.db.write() as conn:
        slot, booking = await _lock(conn, seen)
        if booking.status is not BookingStatus.CONFIRMED:
            raise BookingNotActive(f"the booking is {booking.status}")
        done = booking.complete(now, starts_at=slot.starts_at)
        await booking_repo.save_move(conn, booking, done)
        assert booking.payment_id is not None
        txn = rules.release_escrow(
            booking_id=booking.id,
            provider_id=booking.provider_id,
            payment_id=booking.payment_id,
            amount_minor=booking.amount_minor,
            currency=booking.currency,
            fee_bps=ctx.settings.platform_fee_bps,
        )
        await ledger.post(conn, txn, now=now)
    return done


async def cancel_booking(ctx: Context, *, booking_id: UUID, principal: Principal) -> Booking:
    """Cancelled by its customer or its provider: the slot goes back on sale and the whole
    escrow is refunded through the gateway (pending until the gateway confirms it). An
    admin is refused (Forbidden) whoever's booking it is."""
    if principal.role not in CANCELLED_BY:
        raise Forbidden("a booking is cancelled by its customer or its provider")
    seen = await get_booking(ctx, booking_id=booking_id, principal=principal)
    now = ctx.clock.now()
    async with ctx.db.write() as conn:
        _, booking = await _lock(conn, seen)
        if booking.status is not BookingStatus.CONFIRMED:
            raise BookingNotActive(f"the booking is {booking.status}")
        cancelled = booking.cancel(now)
        await booking_repo.save_move(conn, booking, cancelled)
        await settlement.free_booked_slot(conn, slot_id=booking.slot_id, hold_id=booking.hold_id)
        assert booking.payment_id is not None
        payment = await payment_repo.get_payment(conn, booking.payment_id, for_update=True)
        assert payment is not None
        txn = rules.refund_escrow(
            booking_id=booking.id,
            payment_id=payment.id,
            amount_minor=booking.amount_minor,
            currency=booking.currency,
        )
        await ledger.post(conn, txn, now=now)
        await outcomes.queue_refund(conn, payment, reason="booking_cancelled", now=now)
    return cancelled


async def _lock(conn: Connection, seen: Booking) -> tuple[Slot, Booking]:
    """Slot, hold, then the booking, in the lock order; the slot and the booking as they
    are now (every check of a move reads them here, under the locks, never before)."""
    locked = await locking.lock_slot_and_hold(conn, seen.hold_id)
    assert locked is not None
    booking = await booking_repo.get_booking(conn, seen.id, for_update=True)
    assert booking is not None
    return locked[0], booking
