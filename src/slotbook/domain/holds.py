"""The hold: one customer's time-limited claim on one slot."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from uuid import UUID

from slotbook.domain.errors import IllegalTransition
from slotbook.domain.states import HoldStatus, ReleaseReason, move_hold


@dataclass(frozen=True, slots=True)
class Hold:
    id: UUID
    slot_id: UUID
    provider_id: UUID
    customer_id: UUID
    status: HoldStatus
    release_reason: ReleaseReason | None
    created_at: datetime
    expires_at: datetime
    amount_minor: int
    currency: str
    booking_id: UUID | None = None

    def is_expired(self, now: datetime) -> bool:
        """An active hold is expired from `expires_at` on, whether or not a sweeper has run."""
        return self.status is HoldStatus.ACTIVE and now >= self.expires_at

    def seconds_left(self, now: datetime) -> int:
        """Whole seconds until the hold runs out (0 once it has)."""
        return max(0, int((self.expires_at - now).total_seconds()))

    def is_live(self, now: datetime) -> bool:
        """Active and unexpired: the only kind of hold that blocks its slot."""
        return self.status is HoldStatus.ACTIVE and now < self.expires_at

    def as_seen_at(self, now: datetime) -> Hold:
        """The hold as a reader sees it: an expired active hold reads released / expired."""
        if self.is_expired(now):
            return replace(self, status=HoldStatus.RELEASED, release_reason=ReleaseReason.EXPIRED)
        return self

    def as_created(self) -> Hold:
        """The hold as the answer to its creation showed it: active, not yet booked."""
        return replace(self, status=HoldStatus.ACTIVE, release_reason=None, booking_id=None)

    def release(self, reason: ReleaseReason) -> Hold:
        """Release the hold for `reason`; only an active hold can be released."""
        return replace(
            self, status=move_hold(self.status, HoldStatus.RELEASED), release_reason=reason
        )

    def confirm(self, now: datetime, booking_id: UUID) -> Hold:
        """Confirm the hold into a booking; only a live (active, unexpired) hold can be."""
        if self.is_expired(now):
            raise IllegalTransition("an expired hold cannot be confirmed")
        return replace(
            self, status=move_hold(self.status, HoldStatus.CONFIRMED), booking_id=booking_id
        )


def hold_expiry(created_at: datetime, ttl_seconds: int) -> datetime:
    """A hold lasts `ttl_seconds` from its creation."""
    return created_at + timedelta(seconds=ttl_seconds)


def release_reason_for_previous(previous: Hold, now: datetime) -> ReleaseReason:
    """A customer's earlier hold gives way to a new one: expired if it already ran out."""
    return ReleaseReason.EXPIRED if previous.is_expired(now) else ReleaseReason.SUPERSEDED
