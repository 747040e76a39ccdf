"""The one exception tree of slotbook; the API maps it to problem+json in one place.

```
SlotbookError
├── NotFound            -> 404   (SlotNotFound, HoldNotFound, ProviderNotFound, ...)
├── Conflict            -> 409   (SlotUnavailable carries suggestions, EmailTaken, ...)
├── Unauthorized        -> 401   (InvalidCredentials, InvalidToken)
├── Forbidden           -> 403
├── InvalidRequest      -> 422   (IdempotencyKeyReused, ...)
├── IllegalTransition   -> 500   (a bug: a state machine refused a move)
└── Unavailable         -> 503   (DatabaseUnavailable)
```
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


class Conflict(SlotbookError):
    slug, title = "conflict", "Conflict"


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


class IdempotencyKeyInFlight(Conflict):
    slug, title = "idempotency-key-in-flight", "A request with this Idempotency-Key is in progress"


class Unauthorized(SlotbookError):
    slug, title = "unauthorized", "Unauthorized"


class InvalidCredentials(Unauthorized):
    slug, title = "invalid-credentials", "Email or password is wrong"


class InvalidToken(Unauthorized):
    slug, title = "invalid-token", "Missing or invalid access token"


class Forbidden(SlotbookError):
    slug, title = "forbidden", "Forbidden"


class InvalidRequest(SlotbookError):
    slug, title = "invalid-request", "Invalid request"


class IdempotencyKeyReused(InvalidRequest):
    slug, title = "idempotency-key-reused", "Idempotency-Key reused with a different request"


class IllegalTransition(SlotbookError):
    """A state machine refused a move: always a bug, never ignored."""

    slug, title = "illegal-transition", "Illegal state transition"


class Unavailable(SlotbookError):
    slug, title = "unavailable", "Service unavailable"


class DatabaseUnavailable(Unavailable):
    slug, title = "database-unavailable", "Database unavailable"
