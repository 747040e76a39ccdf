"""The saved booking: the spec's "booking queue", a slot a customer means to pay for later.

It holds nothing and locks nothing: the slot stays on sale, and checking it out takes a
hold like any other (or is refused with alternatives like any other).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

NOTE_MAX_LENGTH = 500
MAX_SAVED_PER_CUSTOMER = 200


@dataclass(frozen=True, slots=True)
class SavedBooking:
    id: UUID
    customer_id: UUID
    slot_id: UUID
    note: str | None
    created_at: datetime
