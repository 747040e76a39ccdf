"""Idempotency keys: a lease while in progress, an expiry, and the request's resource id.

- `resource_id`: the id of what the request creates (for holds, the hold id), chosen
  before the effect, so a retry can look the effect up instead of repeating it. Keys
  claimed before this migration have none; the first retake of such a key gives it one.
- `attempt`: which attempt holds the claim; a retake or a renewal increments it, and an
  attempt writes to its key only while the number is still its own (a fencing token).
- `lease_until`: an unfinished claim may be retaken from then on. Existing claims get
  `created_at`: their lease is over.
- `expires_at`: from then on the key is forgotten and the same key is a new request.
  Existing keys get `created_at` + 24 h, the default TTL. The sweeper deletes expired keys
  through `ix_idempotency_keys_expires_at`; the columns a request updates (`lease_until`,
  `attempt`, the answer) are not indexed.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-08
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.types import TypeEngine

from slotbook.adapters.db.types import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# SQLite keeps UTC as 'YYYY-MM-DD HH:MM:SS.ffffff' text: add the day, keep the fraction.
BACKFILL = {
    "postgresql": (
        "UPDATE idempotency_keys SET attempt = 1, lease_until = created_at, "
        "expires_at = created_at + interval '1 day'"
    ),
    "sqlite": (
        "UPDATE idempotency_keys SET attempt = 1, lease_until = created_at, "
        "expires_at = strftime('%Y-%m-%d %H:%M:%S', created_at, '+1 day') "
        "|| substr(created_at, 20)"
    ),
}
FILLED: dict[str, TypeEngine[Any]] = {
    "attempt": sa.Integer(),
    "lease_until": UTCDateTime(),
    "expires_at": UTCDateTime(),
}


def upgrade() -> None:
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.add_column(sa.Column("resource_id", sa.Uuid))
        for name, type_ in FILLED.items():
            batch.add_column(sa.Column(name, type_))
    op.execute(BACKFILL[op.get_bind().dialect.name])
    with op.batch_alter_table("idempotency_keys") as batch:
        for name, type_ in FILLED.items():
            batch.alter_column(name, existing_type=type_, nullable=False)
    op.create_index("ix_idempotency_keys_expires_at", "idempotency_keys", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_idempotency_keys_expires_at", table_name="idempotency_keys")
    with op.batch_alter_table("idempotency_keys") as batch:
        for name in ("expires_at", "lease_until", "attempt", "resource_id"):
            batch.drop_column(name)
