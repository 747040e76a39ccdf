"""The one exception tree of slotbook; the API maps it to problem+json in one place.

```
SlotbookError
├── NotFound            -> 404   (SlotNotFound, HoldNotFound, ProviderNotFound, ...)
├── Conflict            -> 409   (SlotUnavailable carries suggestions, EmailTaken, ...)
│   └── HoldContended         with Retry-After: the customer's own holds crossed; retry
├── Unauthorized        -> 401   (InvalidCredentials, InvalidToken)
│   └── AccountGone           a genuine token whose account no longer exists
├── Forbidden           -> 403
├── InvalidRequest      -> 422   (IdempotencyKeyReused, ...)
├── IllegalTransition   -> 500   (a bug: a state machine refused a move)
└── Unavailable         -> 503   with Retry-After
    ├── DatabaseUnavailable   the database cannot be reached (connection failures only)
    ├── Overloaded            too busy right now: a full pool, a queue, a statement timeout
    └── ClockSkewed           this process's clock disagrees with the database's
```

An error with `retry_after_seconds` set is a "not now": answered with Retry-After, and
never stored as the final answer of an Idempotency-Key.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from slotbook.domain.suggestions import Suggestion


class SlotbookError(Exception):
    """Base of every error the service raises on purpose."""

    slug = "error"
    title = "Error"
    retry_after_seconds: int | None = None  # set: worth retrying after that many seconds

    def __init__(self, detail: str = "", **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = extra


class NotFound(SlotbookError):
    slug, title = "not-found", "Not found"


class SlotNotFound(NotFound):
    slug, title = "slot-not-found", "Slot not found"


class HoldNotFound(NotFound):
    slug, title = "hold-not-found", "Hold not found"


class ProviderNotFound(NotFound):
    slug, title = "provider-not-found", "Provider not found"


class ServiceNotFound(NotFound):
    slug, title = "service-not-found", "Service not found"


class SavedBookingNotFound(NotFound):
    slug, title = "saved-booking-not-found", "Saved booking not found"


class Conflict(SlotbookError):
    slug, title = "conflict", "Conflict"


class SlotStarted(Conflict):
    slug, title = "slot-started", "Slot already started"


class TooManySaved(Conflict):
    slug, title = "too-many-saved-bookings", "Too many saved bookings"


class SlotUnavailable(Conflict):
    """The slot cannot be held now; carries the alternatives to offer instead."""

    slug, title = "slot-unavailable", "Slot not available"

    def __init__(self, detail: str, *, slot_id: str, suggestions: Sequence[Suggestion]) -> None:
        super().__init__(detail)
        self.slot_id = slot_id
        self.suggestions = list(suggestions)


class SlotOverlap(Conflict):
    slug, title = "slot-overlap", "Slots overlap"


class EmailTaken(Conflict):
    slug, title = "email-taken", "Email already registered"


class HoldNotActive(Conflict):
    slug, title = "hold-not-active", "Hold is not active"


class HoldNotPayable(Conflict):
    """The hold's amount is nothing to pay (a free service from before prices had to be
    more than zero): no payment can start, and nothing is changed."""

    slug, title = "hold-not-payable", "Hold cannot be paid"


class HoldContended(Conflict):
    """The customer's own concurrent holds kept crossing (or the slot kept changing hands)
    until the retries ran out: nothing was decided against the customer; retry shortly."""

    slug, title = "hold-contended", "Hold contended"
    retry_after_seconds = 1


class IdempotencyKeyInFlight(Conflict):
    slug, title = "idempotency-key-in-flight", "A request with this Idempotency-Key is in progress"


class Unauthorized(SlotbookError):
    slug, title = "unauthorized", "Unauthorized"


class InvalidCredentials(Unauthorized):
    slug, title = "invalid-credentials", "Email or password is wrong"


class InvalidToken(Unauthorized):
    slug, title = "invalid-token", "Missing or invalid access token"


class AccountGone(InvalidToken):
    """The token is genuine but its account no longer exists: it opens nothing."""


class Forbidden(SlotbookError):
    slug, title = "forbidden", "Forbidden"


class InvalidRequest(SlotbookError):
    """A request slotbook refuses to act on; `loc` names the part of it at fault, as the
    validation errors do (`("body", "starts_at", 2)`, `("header", "Idempotency-Key")`)."""

    slug, title = "invalid-request", "Invalid request"
    loc: tuple[str | int, ...] = ()

    def __init__(
        self, detail: str = "", *, loc: tuple[str | int, ...] | None = None, **extra: Any
    ) -> None:
        super().__init__(detail, **extra)
        if loc is not None:
            self.loc = loc


class IdempotencyKeyReused(InvalidRequest):
    slug, title = "idempotency-key-reused", "Idempotency-Key reused with a different request"
    loc = ("header", "Idempotency-Key")


class IllegalTransition(SlotbookError):
    """A state machine refused a move: always a bug, never ignored."""

    slug, title = "illegal-transition", "Illegal state transition"


class Unavailable(SlotbookError):
    """Not now, but maybe soon: answered 503 with `Retry-After` (whole seconds)."""

    slug, title = "unavailable", "Service unavailable"
    retry_after_seconds = 1

    def __init__(self, detail: str = "", *, retry_after_seconds: int | None = None) -> None:
        super().__init__(detail)
        if retry_after_seconds is not None:
            self.retry_after_seconds = max(1, retry_after_seconds)


class DatabaseUnavailable(Unavailable):
    """The database cannot be reached: a refused or dropped connection, nothing else."""

    slug, title = "database-unavailable", "Database unavailable"
    retry_after_seconds = 5


class Overloaded(Unavailable):
    """The service is up but too busy to answer in time; the client should retry later."""

    slug, title = "overloaded", "Service overloaded"


class ClockSkewed(Unavailable):
    """This process's clock is further off the database's than allowed: not ready."""

    slug, title = "clock-skewed", "Clock out of step with the database"


class PaymentNotFound(NotFound):
    slug, title = "payment-not-found", "Payment not found"


class BookingNotFound(NotFound):
    slug, title = "booking-not-found", "Booking not found"


class BookingNotActive(Conflict):
    slug, title = "booking-not-active", "Booking is not confirmed"


class BookingNotStarted(Conflict):
    """A booking cannot be completed before its slot starts: the service cannot have been
    delivered yet, and the escrow stays where the customer can still get it back."""

    slug, title = "booking-not-started", "Booking has not started"


class InvalidSignature(Unauthorized):
    """A webhook whose signature is missing, wrong, or whose timestamp is too far off."""

    slug, title = "invalid-signature", "Invalid webhook signature"


class BadRequest(SlotbookError):
    slug, title = "bad-request", "Bad request"


class MalformedWebhook(BadRequest):
    """A correctly signed webhook whose body slotbook cannot read."""

    slug, title = "malformed-webhook", "Malformed webhook"


class GatewayUnavailable(Unavailable):
    """The payment gateway cannot be reached or failed (5xx, timeout); nothing was changed
    on our side that a retry cannot repeat safely."""

    slug, title = "gateway-unavailable", "Payment gateway unavailable"
    retry_after_seconds = 5


class GatewayRefused(SlotbookError):
    """The payment gateway refused the request (4xx): answered 502 Bad Gateway."""

    slug, title = "gateway-refused", "Payment gateway refused the request"
