"""The sandbox gateway's own tables (never the service's): created at start-up.

Times are stored as whole milliseconds since the epoch, UTC, so "due" and "expired" are
plain integer comparisons in SQLite.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.types import TypeDecorator


class UtcMillis(TypeDecorator[datetime]):
    """An aware UTC datetime kept as integer milliseconds since the epoch."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are refused: pass an aware UTC time")
        return round(value.timestamp() * 1000)

    def process_result_value(self, value: Any | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)


metadata = MetaData()

payments = Table(
    "sandbox_payments",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("reference", String(64), nullable=False),
    Column("method", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("description", String(255), nullable=False),
    Column("return_url", Text, nullable=False),
    Column("notify_url", Text, nullable=False),
    Column("redirect_url", Text, nullable=False),
    Column("created_at", UtcMillis, nullable=False),
    Column("expires_at", UtcMillis, nullable=False),
    Column("cancelled_at", UtcMillis),
    Column("settled_at", UtcMillis),  # null until succeeded or failed, then never again
    Column("refunded_minor", BigInteger, nullable=False, server_default="0"),
    CheckConstraint(
        "status IN ('pending', 'succeeded', 'failed', 'cancelled')", name="payment_status"
    ),
    CheckConstraint("amount_minor > 0", name="payment_amount"),
    CheckConstraint(
        "refunded_minor >= 0 AND refunded_minor <= amount_minor", name="payment_refunded"
    ),
    CheckConstraint(
        "(settled_at IS NULL) = (status IN ('pending', 'cancelled'))", name="payment_settled"
    ),
)

refunds = Table(
    "sandbox_refunds",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("payment_id", String(40), ForeignKey("sandbox_payments.id"), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UtcMillis, nullable=False),
    CheckConstraint("amount_minor > 0", name="refund_amount"),
    Index("sandbox_refunds_by_payment", "payment_id"),
)

# an Idempotency-Key names one request: the same key again finds its resource
idempotency_keys = Table(
    "sandbox_idempotency_keys",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("fingerprint", String(64), nullable=False),  # sha256 of the operation and body
    Column("resource_id", String(40), nullable=False),
    Column("created_at", UtcMillis, nullable=False),
)

events = Table(
    "sandbox_events",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("type", String(40), nullable=False),
    Column("payment_id", String(40), ForeignKey("sandbox_payments.id"), nullable=False),
    Column("refund_id", String(40), ForeignKey("sandbox_refunds.id")),
    Column("created_at", UtcMillis, nullable=False),
    Column("body", Text, nullable=False),  # frozen at creation: every delivery sends it
    Index("sandbox_events_by_payment", "payment_id"),
)

# one row per attempt to get an event to its receiver; a duplicate is a row of its own
deliveries = Table(
    "sandbox_deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(40), ForeignKey("sandbox_events.id"), nullable=False),
    Column("url", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("due_at", UtcMillis, nullable=False),
    Column("give_up_at", UtcMillis, nullable=False),
    Column("claimed_until", UtcMillis),  # a worker is sending it until then
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_attempt_at", UtcMillis),
    Column("last_status_code", Integer),
    Column("last_error", Text),
    Column("delivered_at", UtcMillis),
    CheckConstraint(
        "status IN ('pending', 'delivered', 'dropped', 'abandoned')", name="delivery_status"
    ),
    Index("sandbox_deliveries_due", "status", "due_at"),
    Index("sandbox_deliveries_by_event", "event_id"),
)

switches = Table(
    "sandbox_switches",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("value", String(40), nullable=False),
)
