"""The invariants of DESIGN.md that payments must keep (1 and 4-6), read straight from
the tables: `read_books` takes every row that matters in one snapshot, and each check
answers the violations it finds (an empty list when the books are right), so a failing
test says which rule broke and on which row.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, select
from sqlalchemy.ext.asyncio import AsyncConnection

from slotbook.adapters.db.payment_tables import (
    ledger_entries,
    ledger_transactions,
    outbox,
    payments,
    refunds,
    webhook_events,
)
from slotbook.adapters.db.tables import bookings, holds, slots
from slotbook.domain.ledger import Account, TransactionKind, platform_fee

Row = dict[str, Any]
RECEIVED = ("succeeded", "refunded")
LIVE_BOOKING = ("confirmed", "completed")
# why an obligation may be due again without anything being wrong
EXPECTED_RETRIES = ("GatewayUnavailable", "not finished yet")


@dataclass(frozen=True)
class Books:
    """Every row of the tables the payment invariants speak of, read in one snapshot."""

    slots: tuple[Row, ...]
    holds: tuple[Row, ...]
    payments: tuple[Row, ...]
    refunds: tuple[Row, ...]
    bookings: tuple[Row, ...]
    transactions: tuple[Row, ...]
    entries: tuple[Row, ...]
    outbox: tuple[Row, ...]
    events: tuple[Row, ...]

    def without_events(self) -> Books:
        """The books but for the webhook log (a no-op event is still recorded there)."""
        return Books(**{**self.__dict__, "events": ()})


_TABLES = (
    slots,
    holds,
    payments,
    refunds,
    bookings,
    ledger_transactions,
    ledger_entries,
    outbox,
    webhook_events,
)
_SELECTS = tuple(select(t).order_by(*t.primary_key.columns) for t in _TABLES)


def _books(results: Iterable[Iterable[Any]]) -> Books:
    return Books(*[tuple(dict(r._mapping) for r in rows) for rows in results])


async def read_books(conn: AsyncConnection) -> Books:
    """Every row that matters, in the caller's (read) transaction."""
    return _books([(await conn.execute(s)).all() for s in _SELECTS])


def read_books_sync(conn: Connection) -> Books:
    """The same through a synchronous connection (a second reader of a SQLite file,
    which answers without a thread hop per statement)."""
    return _books([conn.execute(s).all() for s in _SELECTS])


def violations(books: Books, *, now: datetime, fee_bps: int) -> list[str]:
    """Every breach of invariants 1, 4, 5 and 6, every booking completed before its slot
    started, and every obligation that failed."""
    return [
        *one_lock_per_slot(books, now=now),
        *confirmed_only_while_yours(books),
        *completed_only_once_started(books),
        *money_never_lost(books, fee_bps=fee_bps),
        *events_once(books),
        *obligations_unbroken(books),
    ]


def _by_id(rows: Iterable[Row]) -> dict[UUID, Row]:
    return {r["id"]: r for r in rows}


def one_lock_per_slot(books: Books, *, now: datetime) -> list[str]:
    """1: at most one live hold and one live booking per slot, and the slot's own row
    agrees with them (booked by its booking, held by an active hold of its own)."""
    found: list[str] = []
    holds_by_id = _by_id(books.holds)
    live_holds = [h for h in books.holds if h["status"] == "active" and h["expires_at"] > now]
    for slot_id, n in Counter(h["slot_id"] for h in live_holds).items():
        if n > 1:
            found.append(f"1: slot {slot_id} has {n} live holds")
    live_bookings = [b for b in books.bookings if b["status"] in LIVE_BOOKING]
    for slot_id, n in Counter(b["slot_id"] for b in live_bookings).items():
        if n > 1:
            found.append(f"1: slot {slot_id} is sold {n} times")
    booking_of_slot = {b["slot_id"]: b for b in live_bookings}
    for slot in books.slots:
        booking = booking_of_slot.get(slot["id"])
        if (slot["status"] == "booked") != (booking is not None):
            found.append(f"1: slot {slot['id']} reads {slot['status']}, its booking {booking}")
        elif booking is not None and slot["hold_id"] != booking["hold_id"]:
            found.append(f"1: booked slot {slot['id']} points at another hold than its booking")
        if slot["status"] == "held":
            hold = holds_by_id.get(slot["hold_id"])
            if hold is None or hold["status"] != "active" or hold["slot_id"] != slot["id"]:
                found.append(f"1: slot {slot['id']} is held by a hold not active on it: {hold}")
    slots_by_id = _by_id(books.slots)
    for hold in live_holds:
        slot = slots_by_id[hold["slot_id"]]
        if slot["status"] != "held" or slot["hold_id"] != hold["id"]:
            found.append(f"1: live hold {hold['id']} does not own its slot ({slot['status']})")
    return found


def confirmed_only_while_yours(books: Books) -> list[str]:
    """4: a booking is a confirmed hold's, made while that hold was unexpired, by a
    succeeded payment of the slot's price for that slot and customer, with its escrow
    written in the same transaction (same instant)."""
    found: list[str] = []
    holds_by_id, payments_by_id = _by_id(books.holds), _by_id(books.payments)
    slots_by_id = _by_id(books.slots)
    escrow_txns = [t for t in books.transactions if t["kind"] == TransactionKind.CAPTURE_TO_ESCROW]
    for b in books.bookings:
        hold, payment = holds_by_id.get(b["hold_id"]), payments_by_id.get(b["payment_id"])
        if payment is None or payment["status"] not in RECEIVED:
            found.append(f"4: booking {b['id']} has no succeeded payment: {payment}")
            continue
        paid_for = holds_by_id[payment["hold_id"]]["slot_id"]
        if (payment["customer_id"], payment["amount_minor"], paid_for) != (
            b["customer_id"],
            b["amount_minor"],
            b["slot_id"],
        ):
            found.append(f"4: booking {b['id']} is not what payment {payment['id']} paid for")
        if b["amount_minor"] != slots_by_id[b["slot_id"]]["price_minor"]:
            found.append(f"4: booking {b['id']} is not for the slot's price")
        if payment["status"] == "refunded" and b["status"] != "cancelled":
            found.append(f"4: booking {b['id']} is {b['status']} but its payment was refunded")
        if hold is None or hold["status"] != "confirmed" or hold["slot_id"] != b["slot_id"]:
            found.append(f"4: booking {b['id']} is not of a confirmed hold on its slot: {hold}")
        elif not hold["created_at"] <= b["confirmed_at"] < hold["expires_at"]:
            found.append(f"4: booking {b['id']} confirmed a hold outside its lifetime")
        escrow = [t for t in escrow_txns if t["booking_id"] == b["id"]]
        if len(escrow) != 1 or escrow[0]["payment_id"] != b["payment_id"]:
            found.append(f"4: booking {b['id']} has {len(escrow)} escrow captures")
        elif escrow[0]["created_at"] != b["confirmed_at"]:
            found.append(f"4: booking {b['id']}'s escrow was written apart from it")
    booked_holds = Counter(b["hold_id"] for b in books.bookings)
    for hold in books.holds:
        if hold["status"] == "confirmed" and booked_holds[hold["id"]] != 1:
            found.append(f"4: confirmed hold {hold['id']} has {booked_holds[hold['id']]} bookings")
    return found


def _ledger_shape(books: Books) -> list[str]:
    found: list[str] = []
    headers = _by_id(books.transactions)
    per_txn: dict[UUID, list[Row]] = defaultdict(list)
    for e in books.entries:
        per_txn[e["transaction_id"]].append(e)
        if e["transaction_id"] not in headers:
            found.append(f"5: ledger entry {e['id']} has no transaction")
    for txn_id in headers:
        entries = per_txn[txn_id]
        sums: Counter[str] = Counter()
        for e in entries:
            sums[e["currency"]] += e["amount_minor"]
        if len(entries) < 2 or any(sums.values()):
            found.append(f"5: ledger transaction {txn_id} does not balance: {dict(sums)}")
    return found


def _balances(books: Books) -> dict[tuple[str, UUID | None], int]:
    """Credits as positive amounts, per account and (for escrow) booking."""
    totals: dict[tuple[str, UUID | None], int] = defaultdict(int)
    for e in books.entries:
        key = e["booking_id"] if e["account"] == Account.ESCROW else None
        totals[(e["account"], key)] -= e["amount_minor"]
    return totals


def completed_only_once_started(books: Books) -> list[str]:
    """The escrow is released only once the service can have been delivered: a booking
    is completed at its slot's start or later."""
    starts = {s["id"]: s["starts_at"] for s in books.slots}
    return [
        f"escrow: booking {b['id']} completed before its slot started"
        for b in books.bookings
        if b["status"] == "completed" and b["completed_at"] < starts[b["slot_id"]]
    ]


def money_never_lost(books: Books, *, fee_bps: int) -> list[str]:
    """5: every succeeded payment ends in exactly one of a live booking's escrow or a
    refund (done or pending); nothing else moves money; every ledger transaction sums to
    zero, and succeeded = escrow + released + fees + refunded + refunds pending."""
    found = _ledger_shape(books)
    refund_of = {r["payment_id"]: r for r in books.refunds}
    bookings_of = defaultdict(list)
    for b in books.bookings:
        bookings_of[b["payment_id"]].append(b)
    txns_of: dict[UUID, Counter[str]] = defaultdict(Counter)
    for t in books.transactions:
        txns_of[t["payment_id"]][t["kind"]] += 1
    for p in books.payments:
        pid, kinds, refund = p["id"], txns_of[p["id"]], refund_of.get(p["id"])
        if p["status"] not in RECEIVED:
            if kinds or refund or bookings_of[pid]:
                found.append(f"5: {p['status']} payment {pid} moved money: {dict(kinds)}")
            continue
        live = [b for b in bookings_of[pid] if b["status"] in LIVE_BOOKING]
        if len(live) + (refund is not None) != 1:
            found.append(f"5: payment {pid} ends in {len(live)} bookings and refund {refund}")
        captured = (
            kinds[TransactionKind.CAPTURE_TO_ESCROW] + kinds[TransactionKind.CAPTURE_TO_REFUND]
        )
        if captured != 1 or kinds[TransactionKind.CAPTURE_TO_ESCROW] != len(bookings_of[pid]):
            found.append(f"5: payment {pid} is captured as {dict(kinds)}")
        if refund is not None:
            refunded = p["status"] == "refunded"
            if refund["amount_minor"] != p["amount_minor"]:
                found.append(f"5: payment {pid}'s refund is not in full")
            if (refund["status"] == "succeeded") != refunded or kinds[
                TransactionKind.REFUND_PAID
            ] != int(refunded):
                found.append(f"5: payment {pid} {p['status']}, refund {refund['status']}")
        elif p["status"] == "refunded":
            found.append(f"5: payment {pid} reads refunded without a refund")
    for b in books.bookings:
        kinds = txns_of[b["payment_id"]]
        expected = {"confirmed": (0, 0), "completed": (1, 0), "cancelled": (0, 1)}[b["status"]]
        got = (kinds[TransactionKind.RELEASE_ESCROW], kinds[TransactionKind.REFUND_ESCROW])
        if got != expected:
            found.append(f"5: {b['status']} booking {b['id']} has escrow moves {got}")
    return found + _accounts_agree(books, fee_bps=fee_bps)


def _accounts_agree(books: Books, *, fee_bps: int) -> list[str]:
    balance = _balances(books)
    escrow = {k[1]: v for k, v in balance.items() if k[0] == Account.ESCROW}
    found = [f"5: escrow held for no booking: {escrow[None]}"] if escrow.get(None) else []
    for b in books.bookings:
        held = b["amount_minor"] if b["status"] == "confirmed" else 0
        if escrow.get(b["id"], 0) != held:
            found.append(f"5: booking {b['id']} ({b['status']}) escrow {escrow.get(b['id'])}")
    completed = [b["amount_minor"] for b in books.bookings if b["status"] == "completed"]
    fees = sum(platform_fee(amount, fee_bps) for amount in completed)
    pending = sum(r["amount_minor"] for r in books.refunds if r["status"] == "pending")
    paid_back = sum(r["amount_minor"] for r in books.refunds if r["status"] == "succeeded")
    received = sum(p["amount_minor"] for p in books.payments if p["status"] in RECEIVED)
    expected = {
        Account.GATEWAY_RECEIPTS: -received,
        Account.PROVIDER_PAYABLE: sum(completed) - fees,
        Account.PLATFORM_FEES: fees,
        Account.REFUNDS_PENDING: pending,
        Account.REFUNDED: paid_back,
    }
    for account, amount in expected.items():
        if balance.get((account, None), 0) != amount:
            found.append(f"5: {account} is {balance.get((account, None), 0)}, not {amount}")
    parts = sum(escrow.values()) + sum(expected.values()) - expected[Account.GATEWAY_RECEIPTS]
    if parts != received:
        found.append(f"5: succeeded {received} != escrow + released + fees + refunds {parts}")
    return found


def events_once(books: Books) -> list[str]:
    """6: each (gateway, event id) is recorded once."""
    seen = Counter((e["gateway"], e["event_id"]) for e in books.events)
    return [f"6: event {key} recorded {n} times" for key, n in seen.items() if n > 1]


def obligations_unbroken(books: Books) -> list[str]:
    """No obligation of the outbox failed for any reason but the gateway being away (the
    worker logs and retries every fault, which would otherwise hide a bug)."""
    return [
        f"outbox {o['kind']} {o['subject_id']} failed: {o['last_error']}"
        for o in books.outbox
        if o["last_error"] and not o["last_error"].startswith(EXPECTED_RETRIES)
    ]


def appended_only(before: Books, after: Books) -> list[str]:
    """5: ledger rows, once written, stay as they were."""
    kept = {e["id"]: e for e in after.entries} | {t["id"]: t for t in after.transactions}
    return [
        f"5: ledger row {row['id']} changed or vanished"
        for row in (*before.entries, *before.transactions)
        if kept.get(row["id"]) != row
    ]
