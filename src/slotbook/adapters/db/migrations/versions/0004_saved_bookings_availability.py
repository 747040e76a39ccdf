"""Saved bookings (the booking queue) and provider availability.

- `saved_bookings`: a slot a customer saved to pay for later, one per (customer, slot).
- `provider_availability`: a provider's published weekly hours (a JSON document), its
  version, and when the worker should next materialise slots from it.
- `availability_slots`: the slots that availability opened; slots added by hand are not
  in it, so materialising never touches them. The `slots` table itself is unchanged.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from slotbook.adapters.db.types import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "saved_bookings",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("customer_id", sa.Uuid, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("slot_id", sa.Uuid, sa.ForeignKey("slots.id"), nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index(
        "saved_bookings_one_per_slot", "saved_bookings", ["customer_id", "slot_id"], unique=True
    )
    op.create_index("ix_saved_bookings_slot", "saved_bookings", ["slot_id"])
    op.create_table(
        "provider_availability",
        sa.Column("provider_id", sa.Uuid, sa.ForeignKey("providers.id"), primary_key=True),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("materialised_version", sa.Integer),
        sa.Column("materialised_at", UTCDateTime()),
    )
    op.create_index("ix_provider_availability_due", "provider_availability", ["due_at"])
    op.create_table(
        "availability_slots",
        sa.Column("slot_id", sa.Uuid, sa.ForeignKey("slots.id"), primary_key=True),
        sa.Column("provider_id", sa.Uuid, sa.ForeignKey("providers.id"), nullable=False),
    )
    op.create_index("ix_availability_slots_provider", "availability_slots", ["provider_id"])


def downgrade() -> None:
    op.drop_table("availability_slots")
    op.drop_table("provider_availability")
    op.drop_table("saved_bookings")
