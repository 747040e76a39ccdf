"""The state machines of slotbook, as tables of allowed moves.

This module owns every status: nothing else decides which move is legal. Moves not in a
table raise IllegalTransition; they are never logged and ignored.

```
Slot     available ──hold──▶ held ──confirm──▶ booked
             ▲                 │
             └──release/expire─┘            (closed: withdrawn by the provider)

Hold     active ──▶ confirmed
           └─────▶ released(cancelled | expired | payment_failed |
                            payment_unconfirmed | superseded)

Payment  pending ──▶ succeeded ──▶ refunded
           ├─────▶ failed ────┐         (a success reported after a failure or a
           └─────▶ cancelled ─┴▶ succeeded   cancellation is still recorded: the money
                                             moved, so it is confirmed or refunded)

Booking  confirmed ──▶ completed   (escrow released to the provider, minus the fee;
             │                      only once the slot has started)
             └──────▶ cancelled   (escrow refunded to the customer)
```

The database refuses every other move of holds, payments and bookings by itself (a
trigger on each table), so no code path can forget these tables.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Final, TypeVar

from slotbook.domain.errors import BookingNotStarted, IllegalTransition


class SlotStatus(StrEnum):
    AVAILABLE = "available"
    HELD = "held"
    BOOKED = "booked"
    CLOSED = "closed"


class HoldStatus(StrEnum):
    ACTIVE = "active"
    CONFIRMED = "confirmed"
    RELEASED = "released"


class ReleaseReason(StrEnum):
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    PAYMENT_FAILED = "payment_failed"
    PAYMENT_UNCONFIRMED = "payment_unconfirmed"
    SUPERSEDED = "superseded"


class PaymentStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


class BookingStatus(StrEnum):
    CONFIRMED = "confirmed"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class EscrowStatus(StrEnum):
    HELD = "held"
    RELEASED = "released"
    REFUNDED = "refunded"


SLOT_MOVES: Final[dict[SlotStatus, frozenset[SlotStatus]]] = {
    SlotStatus.AVAILABLE: frozenset({SlotStatus.HELD, SlotStatus.CLOSED}),
    SlotStatus.HELD: frozenset({SlotStatus.AVAILABLE, SlotStatus.BOOKED}),
    SlotStatus.BOOKED: frozenset({SlotStatus.AVAILABLE}),
    SlotStatus.CLOSED: frozenset({SlotStatus.AVAILABLE}),
}

HOLD_MOVES: Final[dict[HoldStatus, frozenset[HoldStatus]]] = {
    HoldStatus.ACTIVE: frozenset({HoldStatus.CONFIRMED, HoldStatus.RELEASED}),
}

PAYMENT_MOVES: Final[dict[PaymentStatus, frozenset[PaymentStatus]]] = {
    PaymentStatus.PENDING: frozenset(
        {PaymentStatus.SUCCEEDED, PaymentStatus.FAILED, PaymentStatus.CANCELLED}
    ),
    PaymentStatus.FAILED: frozenset({PaymentStatus.SUCCEEDED}),
    PaymentStatus.CANCELLED: frozenset({PaymentStatus.SUCCEEDED}),
    PaymentStatus.SUCCEEDED: frozenset({PaymentStatus.REFUNDED}),
}

BOOKING_MOVES: Final[dict[BookingStatus, frozenset[BookingStatus]]] = {
    BookingStatus.CONFIRMED: frozenset({BookingStatus.COMPLETED, BookingStatus.CANCELLED}),
}

LIVE_BOOKING_STATUSES: Final = (BookingStatus.CONFIRMED, BookingStatus.COMPLETED)
FINAL_PAYMENT_STATUSES: Final = frozenset(
    {PaymentStatus.SUCCEEDED, PaymentStatus.FAILED, PaymentStatus.CANCELLED, PaymentStatus.REFUNDED}
)
ESCROW_OF_BOOKING: Final[dict[BookingStatus, EscrowStatus]] = {
    BookingStatus.CONFIRMED: EscrowStatus.HELD,
    BookingStatus.COMPLETED: EscrowStatus.RELEASED,
    BookingStatus.CANCELLED: EscrowStatus.REFUNDED,
}

_S = TypeVar("_S", SlotStatus, HoldStatus, PaymentStatus, BookingStatus)


def move_slot(current: SlotStatus, new: SlotStatus) -> SlotStatus:
    """The slot's next status, or IllegalTransition."""
    return _move("slot", SLOT_MOVES, current, new)


def move_hold(current: HoldStatus, new: HoldStatus) -> HoldStatus:
    """The hold's next status, or IllegalTransition: only an active hold moves, once."""
    return _move("hold", HOLD_MOVES, current, new)


def move_payment(current: PaymentStatus, new: PaymentStatus) -> PaymentStatus:
    """The payment's next status, or IllegalTransition."""
    return _move("payment", PAYMENT_MOVES, current, new)


def move_booking(current: BookingStatus, new: BookingStatus) -> BookingStatus:
    """The booking's next status, or IllegalTransition. Completing goes through
    `complete_booking`, which also asks whether the slot has started."""
    return _move("booking", BOOKING_MOVES, current, new)


def may_complete(starts_at: datetime, now: datetime) -> bool:
    """A booking completes only once its slot has started: the service cannot have been
    delivered before it began, and until then the customer can still cancel for a refund."""
    return now >= starts_at


def complete_booking(
    current: BookingStatus, *, starts_at: datetime, now: datetime
) -> BookingStatus:
    """`completed`, or IllegalTransition (not confirmed), or BookingNotStarted (the slot
    starting at `starts_at` has not started at `now`)."""
    new = move_booking(current, BookingStatus.COMPLETED)
    if not may_complete(starts_at, now):
        raise BookingNotStarted(f"the booking's slot starts at {starts_at.isoformat()}")
    return new


def _move(kind: str, table: dict[_S, frozenset[_S]], current: _S, new: _S) -> _S:
    if new not in table.get(current, frozenset()):
        raise IllegalTransition(f"{kind} cannot move from {current} to {new}")
    return new
