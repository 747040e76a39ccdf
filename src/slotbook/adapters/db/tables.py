"""The schema as SQLAlchemy Core tables: what queries use, and what the migrations build.

The migrations own the DDL; this module describes the same tables, columns, indexes (with
their partial predicates), unique, foreign-key and CHECK constraints, and a test keeps the
two in agreement (tests/integration/test_migrations.py). A change to the schema is a new
migration plus the matching change here. Only the migrations create what SQLAlchemy does
not describe portably: the `btree_gist` extension, the slots' exclusion constraint and
fillfactor on PostgreSQL, and the overlap triggers on SQLite.

Invariants the schema itself enforces:
1. one active hold per slot and one per customer (unique `active_slot_id`,
   `active_customer_id`, set only while a hold is active, as a CHECK ensures);
2. no two slots of one provider overlap (an exclusion constraint on PostgreSQL, triggers
   on SQLite);
3. at most one live (confirmed or completed) booking per slot (a partial unique index).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
    text,
)

from slotbook.adapters.db.types import UTCDateTime

metadata = MetaData()

# The CHECKs as the migrations wrote them (a migration is frozen, so it keeps its own copy).
ROLES = "role IN ('customer', 'provider', 'admin')"
SLOT_STATUSES = "status IN ('available', 'held', 'booked', 'closed')"
HOLD_STATUSES = "status IN ('active', 'confirmed', 'released')"
RELEASE_REASONS = (
    "release_reason IN ('cancelled', 'expired', 'payment_failed', "
    "'payment_unconfirmed', 'superseded')"
)
HOLD_ACTIVE_KEYS = (
    "(status = 'active' AND active_slot_id IS NOT NULL AND active_customer_id IS NOT NULL"
    " AND active_slot_id = slot_id AND active_customer_id = customer_id)"
    " OR (status <> 'active' AND active_slot_id IS NULL AND active_customer_id IS NULL)"
)
HOLD_REASON_ONLY_WHEN_RELEASED = (
    "(status = 'released' AND release_reason IS NOT NULL)"
    " OR (status <> 'released' AND release_reason IS NULL)"
)
LIVE_BOOKING = "status IN ('confirmed', 'completed')"


def partial_index(name: str, column: str, *, where: str, unique: bool = False) -> Index:
    """A partial index, with the same predicate on both databases."""
    return Index(
        name, column, unique=unique, postgresql_where=text(where), sqlite_where=text(where)
    )


def _price() -> Column[int]:
    return Column("price_minor", BigInteger, CheckConstraint("price_minor >= 0"), nullable=False)


users = Table(
    "users",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    CheckConstraint(ROLES, name="users_role_valid"),
)

providers = Table(
    "providers",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("user_id", Uuid, ForeignKey("users.id"), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("bio", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

services = Table(
    "services",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("provider_id", Uuid, ForeignKey("providers.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("category", String(64), nullable=False),
    Column("duration_minutes", Integer, nullable=False),
    _price(),
    Column("currency", String(3), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    CheckConstraint("duration_minutes > 0", name="services_duration_positive"),
    Index("ix_services_provider", "provider_id"),
    Index("ix_services_category", "category", "provider_id"),
)

slots = Table(
    "slots",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("provider_id", Uuid, ForeignKey("providers.id"), nullable=False),
    Column("service_id", Uuid, ForeignKey("services.id"), nullable=False),
    Column("category", String(64), nullable=False),
    Column("starts_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime, nullable=False),
    _price(),
    Column("currency", String(3), nullable=False),
    Column("status", String(16), nullable=False),
    Column("held_until", UTCDateTime),
    Column("hold_id", Uuid),
    Column("created_at", UTCDateTime, nullable=False),
    CheckConstraint(SLOT_STATUSES, name="slots_status_valid"),
    CheckConstraint("ends_at > starts_at", name="slots_ends_after_start"),
    CheckConstraint(
        "status <> 'held' OR (hold_id IS NOT NULL AND held_until IS NOT NULL)",
        name="slots_held_by_a_hold",
    ),
    # No index covers a column the hold path changes (status, held_until, hold_id): taking
    # and releasing a slot stay heap-only (HOT) updates.
    Index("ix_slots_provider_starts", "provider_id", "starts_at"),
    Index("ix_slots_starts", "starts_at"),
    Index("ix_slots_category_starts", "category", "starts_at"),
)

holds = Table(
    "holds",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("slot_id", Uuid, ForeignKey("slots.id"), nullable=False),
    Column("provider_id", Uuid, nullable=False),  # copied from the slot; no second FK check
    Column("customer_id", Uuid, ForeignKey("users.id"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("release_reason", String(32)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("released_at", UTCDateTime),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("active_slot_id", Uuid),
    Column("active_customer_id", Uuid),
    CheckConstraint(HOLD_STATUSES, name="holds_status_valid"),
    CheckConstraint(f"release_reason IS NULL OR {RELEASE_REASONS}", name="holds_reason_valid"),
    CheckConstraint(HOLD_ACTIVE_KEYS, name="holds_active_keys"),
    CheckConstraint(HOLD_REASON_ONLY_WHEN_RELEASED, name="holds_reason_when_released"),
    CheckConstraint("expires_at > created_at", name="holds_expire_after_creation"),
    # Invariant 1, checked row by row (not deferred): a racing insert waits for the first
    # and then fails cleanly instead of both waiting for each other at commit.
    partial_index(
        "holds_one_slot", "active_slot_id", unique=True, where="active_slot_id IS NOT NULL"
    ),
    partial_index(
        "holds_one_customer",
        "active_customer_id",
        unique=True,
        where="active_customer_id IS NOT NULL",
    ),
    partial_index("ix_holds_active_expiry", "expires_at", where="active_slot_id IS NOT NULL"),
)

bookings = Table(
    "bookings",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("hold_id", Uuid, ForeignKey("holds.id"), nullable=False, unique=True),
    Column("slot_id", Uuid, ForeignKey("slots.id"), nullable=False),
    Column("provider_id", Uuid, ForeignKey("providers.id"), nullable=False),
    Column("customer_id", Uuid, ForeignKey("users.id"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("confirmed_at", UTCDateTime, nullable=False),
    Column("payment_id", Uuid, ForeignKey("payments.id"), unique=True),  # from 0003
    Column("completed_at", UTCDateTime),
    Column("cancelled_at", UTCDateTime),
    CheckConstraint(
        "status IN ('confirmed', 'completed', 'cancelled')", name="bookings_status_valid"
    ),
    partial_index("bookings_one_live_per_slot", "slot_id", unique=True, where=LIVE_BOOKING),
    Index("ix_bookings_customer", "customer_id"),
    Index("ix_bookings_provider", "provider_id"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("user_id", Uuid, ForeignKey("users.id"), primary_key=True),
    Column("endpoint", String(64), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status_code", Integer),
    Column("response_body", LargeBinary),
    Column("created_at", UTCDateTime, nullable=False),
    Column("resource_id", Uuid),  # what the request creates, chosen before the effect
    Column("attempt", Integer, nullable=False),  # the attempt holding the claim
    Column("lease_until", UTCDateTime, nullable=False),  # an unfinished claim, retakable after
    Column("expires_at", UTCDateTime, nullable=False),  # forgotten from then on
    Index("ix_idempotency_keys_expires_at", "expires_at"),
)

# The payment side, saved bookings and availability live in their own modules, on the same
# metadata.
from slotbook.adapters.db import availability_tables, payment_tables  # noqa: E402, F401
