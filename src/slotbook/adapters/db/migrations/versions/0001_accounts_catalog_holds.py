"""Accounts, catalog, holds and bookings, with the invariants in the schema.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from slotbook.adapters.db.types import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ROLES = "role IN ('customer', 'provider', 'admin')"
SLOT_STATUSES = "status IN ('available', 'held', 'booked', 'closed')"
HOLD_STATUSES = "status IN ('active', 'confirmed', 'released')"
RELEASE_REASONS = (
    "release_reason IN ('cancelled', 'expired', 'payment_failed', "
    "'payment_unconfirmed', 'superseded')"
)
# An active hold carries its slot and customer in the two unique "active_" columns; any
# other hold carries neither. So uniqueness of those columns IS invariant 1.
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

SQLITE_NO_OVERLAP = """
CREATE TRIGGER slots_no_overlap_{event}
BEFORE {event} ON slots
WHEN EXISTS (
    SELECT 1 FROM slots AS other
    WHERE other.provider_id = NEW.provider_id
      AND other.id <> NEW.id
      AND other.starts_at < NEW.ends_at
      AND NEW.starts_at < other.ends_at
)
BEGIN
    SELECT RAISE(ABORT, 'slots_no_overlap: slot overlaps another slot of this provider');
END
"""


def _id() -> sa.Column[Any]:
    return sa.Column("id", sa.Uuid, primary_key=True)


def _money() -> list[sa.Column[Any]]:
    return [
        sa.Column(
            "price_minor", sa.BigInteger, sa.CheckConstraint("price_minor >= 0"), nullable=False
        ),
        sa.Column("currency", sa.String(3), nullable=False),
    ]


def upgrade() -> None:
    is_pg = op.get_bind().dialect.name == "postgresql"
    if is_pg:
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")

    op.create_table(
        "users",
        _id(),
        sa.Column("email", sa.String(320), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.CheckConstraint(ROLES, name="users_role_valid"),
    )
    op.create_table(
        "providers",
        _id(),
        sa.Column("user_id", sa.Uuid, sa.ForeignKey("users.id"), nullable=False, unique=True),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("bio", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "services",
        _id(),
        sa.Column("provider_id", sa.Uuid, sa.ForeignKey("providers.id"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("duration_minutes", sa.Integer, nullable=False),
        *_money(),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.CheckConstraint("duration_minutes > 0", name="services_duration_positive"),
    )
    op.create_index("ix_services_provider", "services", ["provider_id"])
    op.create_index("ix_services_category", "services", ["category", "provider_id"])

    op.create_table(
        "slots",
        _id(),
        sa.Column("provider_id", sa.Uuid, sa.ForeignKey("providers.id"), nullable=False),
        sa.Column("service_id", sa.Uuid, sa.ForeignKey("services.id"), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("starts_at", UTCDateTime, nullable=False),
        sa.Column("ends_at", UTCDateTime, nullable=False),
        *_money(),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("held_until", UTCDateTime),
        sa.Column("hold_id", sa.Uuid),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.CheckConstraint(SLOT_STATUSES, name="slots_status_valid"),
        sa.CheckConstraint("ends_at > starts_at", name="slots_ends_after_start"),
        sa.CheckConstraint(
            "status <> 'held' OR (hold_id IS NOT NULL AND held_until IS NOT NULL)",
            name="slots_held_by_a_hold",
        ),
    )
    # No index covers a column the hold path changes (status, held_until, hold_id), and
    # pages keep room to spare: taking and releasing a slot are heap-only (HOT) updates
    # that touch no index, the exclusion constraint's GiST index least of all.
    op.create_index("ix_slots_provider_starts", "slots", ["provider_id", "starts_at"])
    op.create_index("ix_slots_starts", "slots", ["starts_at"])
    op.create_index("ix_slots_category_starts", "slots", ["category", "starts_at"])
    if is_pg:
        op.execute("ALTER TABLE slots SET (fillfactor = 70)")
        op.execute(
            "ALTER TABLE slots ADD CONSTRAINT slots_no_overlap EXCLUDE USING gist "
            "(provider_id WITH =, tstzrange(starts_at, ends_at) WITH &&)"
        )
    else:
        op.execute(SQLITE_NO_OVERLAP.format(event="INSERT"))
        op.execute(SQLITE_NO_OVERLAP.format(event="UPDATE"))

    op.create_table(
        "holds",
        _id(),
        sa.Column("slot_id", sa.Uuid, sa.ForeignKey("slots.id"), nullable=False),
        # copied from the slot in the statement that locks it, so the slot's own foreign
        # key already vouches for it; a second check would cost the hot path a lookup
        sa.Column("provider_id", sa.Uuid, nullable=False),
        sa.Column("customer_id", sa.Uuid, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("release_reason", sa.String(32)),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("released_at", UTCDateTime),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("active_slot_id", sa.Uuid),
        sa.Column("active_customer_id", sa.Uuid),
        sa.CheckConstraint(HOLD_STATUSES, name="holds_status_valid"),
        sa.CheckConstraint(
            f"release_reason IS NULL OR {RELEASE_REASONS}", name="holds_reason_valid"
        ),
        sa.CheckConstraint(HOLD_ACTIVE_KEYS, name="holds_active_keys"),
        sa.CheckConstraint(HOLD_REASON_ONLY_WHEN_RELEASED, name="holds_reason_when_released"),
        sa.CheckConstraint("expires_at > created_at", name="holds_expire_after_creation"),
    )
    # Invariant 1: one active hold per slot and per customer. Checked row by row (not
    # deferred), so a racing insert waits for the first and then fails cleanly instead of
    # both waiting for each other at commit.
    for column in ("active_slot_id", "active_customer_id"):
        name = f"holds_one_{column.removeprefix('active_').removesuffix('_id')}"
        active = sa.text(f"{column} IS NOT NULL")
        op.create_index(
            name, "holds", [column], unique=True, postgresql_where=active, sqlite_where=active
        )
    live = sa.text("active_slot_id IS NOT NULL")
    op.create_index(
        "ix_holds_active_expiry",
        "holds",
        ["expires_at"],
        postgresql_where=live,
        sqlite_where=live,
    )

    op.create_table(
        "bookings",
        _id(),
        sa.Column("hold_id", sa.Uuid, sa.ForeignKey("holds.id"), nullable=False, unique=True),
        sa.Column("slot_id", sa.Uuid, sa.ForeignKey("slots.id"), nullable=False),
        sa.Column("provider_id", sa.Uuid, sa.ForeignKey("providers.id"), nullable=False),
        sa.Column("customer_id", sa.Uuid, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("confirmed_at", UTCDateTime, nullable=False),
        sa.CheckConstraint(
            "status IN ('confirmed', 'completed', 'cancelled')", name="bookings_status_valid"
        ),
    )
    live = sa.text(LIVE_BOOKING)
    op.create_index(
        "bookings_one_live_per_slot",
        "bookings",
        ["slot_id"],
        unique=True,
        postgresql_where=live,
        sqlite_where=live,
    )
    op.create_index("ix_bookings_customer", "bookings", ["customer_id"])
    op.create_index("ix_bookings_provider", "bookings", ["provider_id"])

    op.create_table(
        "idempotency_keys",
        sa.Column("user_id", sa.Uuid, sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("endpoint", sa.String(64), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer),
        sa.Column("response_body", sa.LargeBinary),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    for table in ("idempotency_keys", "bookings", "holds", "slots", "services", "providers"):
        op.drop_table(table)
    op.drop_table("users")
