"""The schema as SQLAlchemy Core tables, for queries; the migrations own the DDL.

Invariants the schema itself enforces (see the migrations for the exact DDL):
1. one active hold per slot and one per customer (unique `active_slot_id`,
   `active_customer_id`, set only while a hold is active, as a CHECK ensures);
2. no two slots of one provider overlap (an exclusion constraint on PostgreSQL, triggers
   on SQLite);
3. at most one live (confirmed or completed) booking per slot (a partial unique index).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
)

from slotbook.adapters.db.types import UTCDateTime

metadata = MetaData()

users = Table(
    "users",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
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
    Column("price_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
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
    Column("price_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(16), nullable=False),
    Column("held_until", UTCDateTime),
    Column("hold_id", Uuid),
    Column("created_at", UTCDateTime, nullable=False),
)

holds = Table(
    "holds",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("slot_id", Uuid, ForeignKey("slots.id"), nullable=False),
    Column("provider_id", Uuid, nullable=False),
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
)
