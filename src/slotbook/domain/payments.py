"""Payments: one attempt to pay for a hold through a gateway, and what its outcome does.

A hold may have several payments (the customer switches method); starting a new one
cancels the earlier pending ones, and at most one confirms the hold. What a success does
is decided here, in one place, from what the confirming transaction read under its locks:

- the hold is still active, unexpired and owns its slot → confirm it (invariant 4);
- otherwise the success is late (or a second one): refunded in full, or, with the
  `confirm_if_free` policy, a booking on the slot if it is still free to hold;
- a success already recorded changes nothing (webhooks come twice, in any order).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from slotbook.domain.gateway import PaymentMethod
from slotbook.domain.holds import Hold
from slotbook.domain.slots import Slot
from slotbook.domain.states import HoldStatus, PaymentStatus, SlotStatus, move_payment
from slotbook.domain.validation import PRICE_MIN_MINOR


class LatePolicy(StrEnum):
    REFUND = "refund"
    CONFIRM_IF_FREE = "confirm_if_free"


@dataclass(frozen=True, slots=True)
class Payment:
    id: UUID
    hold_id: UUID
    customer_id: UUID
    provider_id: UUID
    gateway: str
    method: PaymentMethod
    status: PaymentStatus
    amount_minor: int
    currency: str
    created_at: datetime
    gateway_payment_id: str | None = None
    redirect_url: str | None = None
    return_url: str | None = None
    returned_at: datetime | None = None

    def moved(self, status: PaymentStatus) -> Payment:
        """The payment in its next status; IllegalTransition for a move not allowed."""
        return replace(self, status=move_payment(self.status, status))

    @property
    def money_received(self) -> bool:
        return self.status in (PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED)


@dataclass(frozen=True, slots=True)
class Refund:
    """A payment's money owed back in full; pending until the gateway confirms it."""

    id: UUID
    payment_id: UUID
    amount_minor: int
    currency: str
    reason: str  # late_payment, second_payment, amount_mismatch, booking_cancelled
    status: str  # pending | succeeded
    gateway_refund_id: str | None


def is_payable(amount_minor: int) -> bool:
    """Whether a hold's amount can be paid: every payment takes the whole price, and no
    gateway takes a payment of nothing (holds of free services made before prices had to
    be more than zero still carry 0)."""
    return amount_minor >= PRICE_MIN_MINOR


class SuccessFate(StrEnum):
    CONFIRM = "confirm"  # the hold becomes the booking
    CONFIRM_FREE_SLOT = "confirm_free_slot"  # late, but the slot is free: a new booking
    REFUND = "refund"  # late or a second success: every satang goes back
    ALREADY_RECORDED = "already_recorded"  # a duplicate report of a known success


def fate_of_success(
    *,
    payment: Payment,
    hold: Hold,
    slot: Slot,
    now: datetime,
    policy: LatePolicy,
    amount_minor: int | None = None,
) -> SuccessFate:
    """What a reported success does, given the rows as locked by the confirming step."""
    if payment.money_received:
        return SuccessFate.ALREADY_RECORDED
    if amount_minor is not None and amount_minor != payment.amount_minor:
        return SuccessFate.REFUND  # not the price: never a booking, the money goes back
    owns_slot = slot.status is SlotStatus.HELD and slot.hold_id == hold.id
    if hold.is_live(now) and owns_slot:
        return SuccessFate.CONFIRM
    if (
        policy is LatePolicy.CONFIRM_IF_FREE
        and hold.status is not HoldStatus.CONFIRMED
        and slot.is_bookable(now)
    ):
        return SuccessFate.CONFIRM_FREE_SLOT
    return SuccessFate.REFUND


def failure_releases_hold(
    *, payment: Payment, hold: Hold, now: datetime, others_pending: bool
) -> bool:
    """A declined payment releases its hold, if it was the hold's live attempt: none of the
    hold's other payments is still pending (a method the customer switched to meanwhile
    keeps the hold while it is being opened)."""
    return payment.status is PaymentStatus.PENDING and hold.is_live(now) and not others_pending
