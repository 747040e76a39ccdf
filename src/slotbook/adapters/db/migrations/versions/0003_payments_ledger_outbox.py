"""Payments, refunds, the escrow ledger, the outbox and webhook events; status moves and
the ledger's balance kept by the database itself.

- `payments`: one attempt to pay for a hold through a gateway.
- `refunds`: one full refund per payment that confirmed nothing or whose booking was
  cancelled; pending until the gateway confirms it.
- `ledger_transactions` / `ledger_entries`: double-entry, append-only. On PostgreSQL a
  deferred constraint trigger checks at commit that each transaction's entries sum to
  zero per currency; on SQLite (no deferred triggers) the entries are written first and
  the header's insert checks them, and an entry for a transaction already written is
  refused. UPDATE and DELETE are refused on both tables.
- `outbox`: obligations to act outside the database (cancel at the gateway, refund,
  check a deadline), written in the transaction that creates them; workers take due rows
  with SKIP LOCKED.
- `webhook_events`: each (gateway, event id) once, recorded with its effect.
- `bookings` gain their payment and the times they were completed or cancelled.
- Triggers refuse every status move of holds, payments and bookings that their state
  machine (domain/states.py) does not allow. The trigger's WHEN clause lets legal moves
  through without calling a function, so the hold path pays next to nothing for it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from slotbook.adapters.db.types import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# (table, legal moves); a frozen copy of domain/states.py as of this migration
MOVES = {
    "holds": "(OLD.status = 'active' AND NEW.status IN ('confirmed', 'released'))",
    "payments": (
        "(OLD.status = 'pending' AND NEW.status IN ('succeeded', 'failed', 'cancelled'))"
        " OR (OLD.status IN ('failed', 'cancelled') AND NEW.status = 'succeeded')"
        " OR (OLD.status = 'succeeded' AND NEW.status = 'refunded')"
    ),
    "bookings": "(OLD.status = 'confirmed' AND NEW.status IN ('completed', 'cancelled'))",
}

PG_REFUSE_MOVE = """
CREATE FUNCTION slotbook_refuse_status_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'illegal_transition: % % cannot move from % to %',
        TG_TABLE_NAME, OLD.id, OLD.status, NEW.status
        USING ERRCODE = 'check_violation';
END $$
"""
PG_MOVE_TRIGGER = """
CREATE TRIGGER {table}_status_moves BEFORE UPDATE OF status ON {table}
FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status AND NOT ({moves}))
EXECUTE FUNCTION slotbook_refuse_status_move()
"""
SQLITE_MOVE_TRIGGER = """
CREATE TRIGGER {table}_status_moves BEFORE UPDATE OF status ON {table}
WHEN OLD.status <> NEW.status AND NOT ({moves})
BEGIN
    SELECT RAISE(ABORT, 'illegal_transition: {table} status move refused');
END
"""

PG_LEDGER = [
    """
CREATE FUNCTION slotbook_ledger_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    txn uuid;
BEGIN
    IF TG_TABLE_NAME = 'ledger_entries' THEN
        txn := NEW.transaction_id;
    ELSE
        txn := NEW.id;
    END IF;
    IF (SELECT count(*) FROM ledger_entries WHERE transaction_id = txn) < 2
       OR EXISTS (SELECT 1 FROM ledger_entries WHERE transaction_id = txn
                  GROUP BY currency HAVING sum(amount_minor) <> 0)
       OR NOT EXISTS (SELECT 1 FROM ledger_transactions WHERE id = txn) THEN
        RAISE EXCEPTION 'ledger_unbalanced: ledger transaction % does not sum to zero', txn
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$
""",
    "CREATE CONSTRAINT TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries"
    " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slotbook_ledger_balanced()",
    "CREATE CONSTRAINT TRIGGER ledger_transactions_balanced AFTER INSERT ON ledger_transactions"
    " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slotbook_ledger_balanced()",
    """
CREATE FUNCTION slotbook_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger_append_only: % is never updated or deleted', TG_TABLE_NAME
        USING ERRCODE = 'check_violation';
END $$
""",
    "CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries"
    " FOR EACH ROW EXECUTE FUNCTION slotbook_ledger_append_only()",
    "CREATE TRIGGER ledger_transactions_append_only BEFORE UPDATE OR DELETE"
    " ON ledger_transactions FOR EACH ROW EXECUTE FUNCTION slotbook_ledger_append_only()",
]
SQLITE_LEDGER = [
    """
CREATE TRIGGER ledger_transactions_balanced BEFORE INSERT ON ledger_transactions
WHEN (SELECT count(*) FROM ledger_entries WHERE transaction_id = NEW.id) < 2
  OR EXISTS (SELECT 1 FROM ledger_entries WHERE transaction_id = NEW.id
             GROUP BY currency HAVING sum(amount_minor) <> 0)
BEGIN
    SELECT RAISE(ABORT, 'ledger_unbalanced: ledger transaction does not sum to zero');
END
""",
    """
CREATE TRIGGER ledger_entries_closed BEFORE INSERT ON ledger_entries
WHEN EXISTS (SELECT 1 FROM ledger_transactions WHERE id = NEW.transaction_id)
BEGIN
    SELECT RAISE(ABORT, 'ledger_append_only: the ledger transaction is already written');
END
""",
    *(
        f"CREATE TRIGGER {table}_append_only_{event.lower()} BEFORE {event} ON {table}"
        f" BEGIN SELECT RAISE(ABORT, 'ledger_append_only: {table} is never changed'); END"
        for table in ("ledger_entries", "ledger_transactions")
        for event in ("UPDATE", "DELETE")
    ),
]


def _partial(name: str, table: str, columns: list[str], where: str) -> None:
    clause = sa.text(where)
    op.create_index(name, table, columns, postgresql_where=clause, sqlite_where=clause)


def _tables() -> None:
    op.create_table(
        "payments",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("hold_id", sa.Uuid, sa.ForeignKey("holds.id"), nullable=False),
        sa.Column("customer_id", sa.Uuid, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("provider_id", sa.Uuid, nullable=False),
        sa.Column("gateway", sa.String(32), nullable=False),
        sa.Column("gateway_payment_id", sa.String(255)),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("redirect_url", sa.Text),
        sa.Column("return_url", sa.Text),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("returned_at", UTCDateTime),
        sa.Column("settled_at", UTCDateTime),
        sa.CheckConstraint(
            "status IN ('pending', 'succeeded', 'failed', 'cancelled', 'refunded')",
            name="payments_status_valid",
        ),
        sa.CheckConstraint("method IN ('card', 'promptpay')", name="payments_method_valid"),
        sa.CheckConstraint("amount_minor > 0", name="payments_amount_positive"),
    )
    op.create_index("ix_payments_hold", "payments", ["hold_id"])
    op.create_index("ix_payments_customer", "payments", ["customer_id"])
    _partial("ix_payments_pending", "payments", ["created_at"], "status = 'pending'")
    op.create_index(
        "payments_one_per_gateway_id", "payments", ["gateway", "gateway_payment_id"], unique=True
    )
    op.create_table(
        "refunds",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("payment_id", sa.Uuid, sa.ForeignKey("payments.id"), nullable=False, unique=True),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("gateway_refund_id", sa.String(255)),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("succeeded_at", UTCDateTime),
        sa.CheckConstraint("status IN ('pending', 'succeeded')", name="refunds_status_valid"),
        sa.CheckConstraint("amount_minor > 0", name="refunds_amount_positive"),
    )
    with op.batch_alter_table("bookings") as batch:
        batch.add_column(sa.Column("payment_id", sa.Uuid))
        batch.add_column(sa.Column("completed_at", UTCDateTime))
        batch.add_column(sa.Column("cancelled_at", UTCDateTime))
        batch.create_foreign_key("fk_bookings_payment", "payments", ["payment_id"], ["id"])
        batch.create_unique_constraint("bookings_payment_id_key", ["payment_id"])
    _ledger_tables()
    _outbox_and_events()


def _ledger_tables() -> None:
    op.create_table(
        "ledger_transactions",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("payment_id", sa.Uuid, sa.ForeignKey("payments.id")),
        sa.Column("booking_id", sa.Uuid, sa.ForeignKey("bookings.id")),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_ledger_transactions_payment", "ledger_transactions", ["payment_id"])
    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column(
            "transaction_id",
            sa.Uuid,
            sa.ForeignKey("ledger_transactions.id", deferrable=True, initially="DEFERRED"),
            nullable=False,
        ),
        sa.Column("account", sa.String(32), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("booking_id", sa.Uuid),
        sa.Column("provider_id", sa.Uuid),
        sa.CheckConstraint(
            "account IN ('gateway_receipts', 'escrow', 'provider_payable', 'platform_fees', "
            "'refunds_pending', 'refunded')",
            name="ledger_entries_account_valid",
        ),
        sa.CheckConstraint("amount_minor <> 0", name="ledger_entries_amount_nonzero"),
    )
    op.create_index("ix_ledger_entries_transaction", "ledger_entries", ["transaction_id"])
    op.create_index("ix_ledger_entries_account", "ledger_entries", ["account", "booking_id"])


def _outbox_and_events() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("subject_id", sa.Uuid, nullable=False),
        sa.Column("due_at", UTCDateTime, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("leased_until", UTCDateTime),
        sa.Column("done_at", UTCDateTime),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.CheckConstraint(
            "kind IN ('cancel_hold_payments', 'cancel_payment', 'refund', 'confirm_deadline', "
            "'reconcile_payment')",
            name="outbox_kind_valid",
        ),
    )
    _partial("ix_outbox_due", "outbox", ["due_at"], "done_at IS NULL")
    op.create_index("ix_outbox_subject", "outbox", ["subject_id"])
    op.create_table(
        "webhook_events",
        sa.Column("gateway", sa.String(32), primary_key=True),
        sa.Column("event_id", sa.String(255), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("gateway_payment_id", sa.String(255)),
        sa.Column("received_at", UTCDateTime, nullable=False),
    )


def upgrade() -> None:
    _tables()
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_REFUSE_MOVE)
        for table, moves in MOVES.items():
            op.execute(PG_MOVE_TRIGGER.format(table=table, moves=moves))
        for statement in PG_LEDGER:
            op.execute(statement)
    else:
        for table, moves in MOVES.items():
            op.execute(SQLITE_MOVE_TRIGGER.format(table=table, moves=moves))
        for statement in SQLITE_LEDGER:
            op.execute(statement)


def downgrade() -> None:
    is_pg = op.get_bind().dialect.name == "postgresql"
    for table in MOVES:
        op.execute(
            f"DROP TRIGGER IF EXISTS {table}_status_moves" + (f" ON {table}" if is_pg else "")
        )
    for table in ("webhook_events", "outbox", "ledger_entries", "ledger_transactions"):
        op.drop_table(table)
    with op.batch_alter_table("bookings") as batch:
        batch.drop_constraint("bookings_payment_id_key", type_="unique")
        batch.drop_constraint("fk_bookings_payment", type_="foreignkey")
        batch.drop_column("cancelled_at")
        batch.drop_column("completed_at")
        batch.drop_column("payment_id")
    op.drop_table("refunds")
    op.drop_table("payments")
    if is_pg:
        for function in (
            "slotbook_refuse_status_move",
            "slotbook_ledger_balanced",
            "slotbook_ledger_append_only",
        ):
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
