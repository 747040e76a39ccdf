"""The payment side of the schema: payments, refunds, the ledger, the outbox, webhook
events (migration 0003). Same metadata as `tables`, which imports this module.

Invariants the schema enforces here:
4. a booking is one payment's (unique `bookings.payment_id`), a refund one payment's;
5. the ledger is append-only and every transaction sums to zero in each currency
   (triggers: a deferred constraint trigger on PostgreSQL, one at the header on SQLite);
6. a webhook event is recorded once per (gateway, event id) (the primary key).
Holds, payments and bookings move only along their state machines (triggers, both
databases; see domain/states.py).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    Uuid,
)

from slotbook.adapters.db.tables import metadata, partial_index
from slotbook.adapters.db.types import UTCDateTime

PAYMENT_STATUSES = "status IN ('pending', 'succeeded', 'failed', 'cancelled', 'refunded')"
PAYMENT_METHODS = "method IN ('card', 'promptpay')"
REFUND_STATUSES = "status IN ('pending', 'succeeded')"
LEDGER_ACCOUNTS = (
    "account IN ('gateway_receipts', 'escrow', 'provider_payable', 'platform_fees', "
    "'refunds_pending', 'refunded')"
)
OUTBOX_KINDS = (
    "kind IN ('cancel_hold_payments', 'cancel_payment', 'refund', 'confirm_deadline', "
    "'reconcile_payment')"
)

payments = Table(
    "payments",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("hold_id", Uuid, ForeignKey("holds.id"), nullable=False),
    Column("customer_id", Uuid, ForeignKey("users.id"), nullable=False),
    Column("provider_id", Uuid, nullable=False),
    Column("gateway", String(32), nullable=False),
    Column("gateway_payment_id", String(255)),  # known once the gateway answered
    Column("method", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("redirect_url", Text),
    Column("return_url", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("returned_at", UTCDateTime),
    Column("settled_at", UTCDateTime),
    CheckConstraint(PAYMENT_STATUSES, name="payments_status_valid"),
    CheckConstraint(PAYMENT_METHODS, name="payments_method_valid"),
    CheckConstraint("amount_minor > 0", name="payments_amount_positive"),
    Index("ix_payments_hold", "hold_id"),
    Index("ix_payments_customer", "customer_id"),
    partial_index("ix_payments_pending", "created_at", where="status = 'pending'"),
    Index("payments_one_per_gateway_id", "gateway", "gateway_payment_id", unique=True),
)

refunds = Table(
    "refunds",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("payment_id", Uuid, ForeignKey("payments.id"), nullable=False, unique=True),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("reason", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("gateway_refund_id", String(255)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("succeeded_at", UTCDateTime),
    CheckConstraint(REFUND_STATUSES, name="refunds_status_valid"),
    CheckConstraint("amount_minor > 0", name="refunds_amount_positive"),
)

ledger_transactions = Table(
    "ledger_transactions",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("payment_id", Uuid, ForeignKey("payments.id")),
    Column("booking_id", Uuid, ForeignKey("bookings.id")),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_ledger_transactions_payment", "payment_id"),
)

ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("id", Uuid, primary_key=True),
    # written before its header: the header's insert checks the balance on SQLite
    Column(
        "transaction_id",
        Uuid,
        ForeignKey("ledger_transactions.id", deferrable=True, initially="DEFERRED"),
        nullable=False,
    ),
    Column("account", String(32), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("booking_id", Uuid),
    Column("provider_id", Uuid),
    CheckConstraint(LEDGER_ACCOUNTS, name="ledger_entries_account_valid"),
    CheckConstraint("amount_minor <> 0", name="ledger_entries_amount_nonzero"),
    Index("ix_ledger_entries_transaction", "transaction_id"),
    Index("ix_ledger_entries_account", "account", "booking_id"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("subject_id", Uuid, nullable=False),  # the hold, payment or refund it acts on
    Column("due_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("leased_until", UTCDateTime),
    Column("done_at", UTCDateTime),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    CheckConstraint(OUTBOX_KINDS, name="outbox_kind_valid"),
    partial_index("ix_outbox_due", "due_at", where="done_at IS NULL"),
    Index("ix_outbox_subject", "subject_id"),
)

webhook_events = Table(
    "webhook_events",
    metadata,
    Column("gateway", String(32), primary_key=True),
    Column("event_id", String(255), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("gateway_payment_id", String(255)),
    Column("received_at", UTCDateTime, nullable=False),
)
