"""Domain objects as the JSON of API.md."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from slotbook.domain.bookings import Booking
from slotbook.domain.holds import Hold
from slotbook.domain.ledger import AMOUNTS, CurrencySummary, Summary
from slotbook.domain.model import Provider, Service, User
from slotbook.domain.payments import Payment, Refund
from slotbook.domain.saved_bookings import SavedBooking
from slotbook.domain.slots import Slot
from slotbook.domain.suggestions import Suggestion


def user(u: User) -> dict[str, Any]:
    body: dict[str, Any] = {"id": u.id, "email": u.email, "name": u.name, "role": u.role}
    if u.provider_id is not None:
        body["provider_id"] = u.provider_id
    return body


def provider(p: Provider) -> dict[str, Any]:
    return {
        "id": p.id,
        "display_name": p.display_name,
        "timezone": p.timezone,
        "bio": p.bio,
        "categories": list(p.categories),
    }


def service(s: Service) -> dict[str, Any]:
    return {
        "id": s.id,
        "provider_id": s.provider_id,
        "name": s.name,
        "category": s.category,
        "duration_minutes": s.duration_minutes,
        "price_minor": s.price_minor,
        "currency": s.currency,
    }


def slot(s: Slot, now: datetime) -> dict[str, Any]:
    return {
        "id": s.id,
        "provider_id": s.provider_id,
        "service_id": s.service_id,
        "category": s.category,
        "starts_at": s.starts_at,
        "ends_at": s.ends_at,
        "price_minor": s.price_minor,
        "currency": s.currency,
        "status": s.status_at(now),
    }


def slots(items: Sequence[Slot], now: datetime) -> dict[str, Any]:
    return {"slots": [slot(s, now) for s in items]}


def saved_booking(saved: SavedBooking, s: Slot, now: datetime) -> dict[str, Any]:
    return {
        "id": saved.id,
        "slot_id": saved.slot_id,
        "note": saved.note,
        "created_at": saved.created_at,
        "slot": slot(s, now),
    }


def hold(h: Hold, payments: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    return {
        "id": h.id,
        "slot_id": h.slot_id,
        "provider_id": h.provider_id,
        "customer_id": h.customer_id,
        "status": h.status,
        "release_reason": h.release_reason,
        "created_at": h.created_at,
        "expires_at": h.expires_at,
        "amount_minor": h.amount_minor,
        "currency": h.currency,
        "booking_id": h.booking_id,
        "payments": list(payments),
    }


def suggestion(s: Suggestion) -> dict[str, Any]:
    return {
        "slot_id": s.slot_id,
        "provider_id": s.provider_id,
        "service_id": s.service_id,
        "starts_at": s.starts_at,
        "ends_at": s.ends_at,
        "price_minor": s.price_minor,
        "currency": s.currency,
        "kind": s.kind,
    }


def payment(p: Payment, refund: Refund | None = None) -> dict[str, Any]:
    return {
        "id": p.id,
        "hold_id": p.hold_id,
        "gateway": p.gateway,
        "gateway_payment_id": p.gateway_payment_id,
        "method": p.method,
        "status": p.status,
        "amount_minor": p.amount_minor,
        "currency": p.currency,
        "redirect_url": p.redirect_url,
        "created_at": p.created_at,
        "returned_at": p.returned_at,
        "refund": None
        if refund is None
        else {"id": refund.id, "status": refund.status, "amount_minor": refund.amount_minor},
    }


def booking(b: Booking) -> dict[str, Any]:
    return {
        "id": b.id,
        "hold_id": b.hold_id,
        "slot_id": b.slot_id,
        "provider_id": b.provider_id,
        "customer_id": b.customer_id,
        "payment_id": b.payment_id,
        "status": b.status,
        "amount_minor": b.amount_minor,
        "currency": b.currency,
        "confirmed_at": b.confirmed_at,
        "completed_at": b.completed_at,
        "cancelled_at": b.cancelled_at,
        "escrow": {"status": b.escrow_status, "amount_minor": b.amount_minor},
    }


def ledger_summary(s: Summary) -> dict[str, Any]:
    return {
        **_ledger_figures(s),
        "currency": s.currency,
        "currencies": [{"currency": c.currency, **_ledger_figures(c)} for c in s.currencies],
    }


def _ledger_figures(s: Summary | CurrencySummary) -> dict[str, Any]:
    """The summary's amounts and whether they balance, as the top and each currency show them."""
    return {name: getattr(s, name) for name in AMOUNTS} | {"balanced": s.balanced}
