"""Domain objects as the JSON of API.md."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from slotbook.domain.holds import Hold
from slotbook.domain.model import Provider, Service, User
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


def hold(h: Hold) -> dict[str, Any]:
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
        "payments": [],
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
