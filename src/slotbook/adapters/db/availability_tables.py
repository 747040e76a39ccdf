"""Saved bookings and provider availability (migration 0004). Same metadata as `tables`,
which imports this module.

- `saved_bookings`: a slot a customer saved to pay for later; it holds nothing. One per
  (customer, slot).
- `provider_availability`: a provider's weekly hours as published (the JSON document), a
  version bumped by every publication, and when the worker should next materialise it
  (`due_at`) and which version it last did.
- `availability_slots`: which slots the availability opened (the rest were added by hand
  and materialising never touches them). Slots themselves are unchanged: the hold path
  reads and writes the same rows as before.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, Table, Text, Uuid

from slotbook.adapters.db.tables import metadata
from slotbook.adapters.db.types import UTCDateTime

saved_bookings = Table(
    "saved_bookings",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("customer_id", Uuid, ForeignKey("users.id"), nullable=False),
    Column("slot_id", Uuid, ForeignKey("slots.id"), nullable=False),
    Column("note", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Index("saved_bookings_one_per_slot", "customer_id", "slot_id", unique=True),
    Index("ix_saved_bookings_slot", "slot_id"),
)

provider_availability = Table(
    "provider_availability",
    metadata,
    Column("provider_id", Uuid, ForeignKey("providers.id"), primary_key=True),
    Column("document", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("materialised_version", Integer),
    Column("materialised_at", UTCDateTime),
    Index("ix_provider_availability_due", "due_at"),
)

availability_slots = Table(
    "availability_slots",
    metadata,
    Column("slot_id", Uuid, ForeignKey("slots.id"), primary_key=True),
    Column("provider_id", Uuid, ForeignKey("providers.id"), nullable=False),
    Index("ix_availability_slots_provider", "provider_id"),
)
