"""The booking: what a hold becomes when its payment succeeds, with the money in escrow
until the service is delivered (completed) or the booking is cancelled (refunded)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Final
from uuid import UUID

from slotbook.domain.model import Role
from slotbook.domain.states import (
    ESCROW_OF_BOOKING,
    BookingStatus,
    EscrowStatus,
    complete_booking,
    move_booking,
)

# Who may move a booking (any other role is refused outright, 403); within these roles,
# only the booking's own customer or provider (anyone else's booking answers 404).
COMPLETED_BY: Final = frozenset({Role.PROVIDER, Role.ADMIN})
CANCELLED_BY: Final = frozenset({Role.CUSTOMER, Role.PROVIDER})


@dataclass(frozen=True, slots=True)
class Booking:
    id: UUID
    hold_id: UUID
    slot_id: UUID
    provider_id: UUID
    customer_id: UUID
    payment_id: UUID | None
    status: BookingStatus
    amount_minor: int
    currency: str
    confirmed_at: datetime
    completed_at: datetime | None = None
    cancelled_at: datetime | None = None

    @property
    def escrow_status(self) -> EscrowStatus:
        return ESCROW_OF_BOOKING[self.status]

    def complete(self, now: datetime, *, starts_at: datetime) -> Booking:
        """Delivered: the escrow goes to the provider. Only a confirmed booking, and only
        once its slot (starting at `starts_at`) has started: BookingNotStarted before."""
        status = complete_booking(self.status, starts_at=starts_at, now=now)
        return replace(self, status=status, completed_at=now)

    def cancel(self, now: datetime) -> Booking:
        """Cancelled: the escrow goes back to the customer. Only a confirmed booking."""
        status = move_booking(self.status, BookingStatus.CANCELLED)
        return replace(self, status=status, cancelled_at=now)
