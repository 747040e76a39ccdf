"""The escrow ledger: double-entry, append-only.

Accounts (a debit is positive, a credit negative):

- `gateway_receipts` — money customers paid, as the gateways report it;
- `escrow` — held for one booking (`booking_id`) until it is delivered or cancelled;
- `provider_payable` — owed to a provider (`provider_id`) for delivered bookings;
- `platform_fees` — the platform's share of delivered bookings;
- `refunds_pending` — owed back to customers, the gateway not yet done;
- `refunded` — given back, the gateway confirmed it.

A transaction is a set of entries that sums to zero in every currency. Entries are
appended, never changed; a correction is a new transaction. So at every moment
`paid = escrow held + released to providers + platform fees + refunded + refunds pending`
(invariant 5). The database checks the sum too (a constraint trigger), so no bug in
code can write an unbalanced transaction.

The flows, one transaction each:

| event                         | debit               | credit                             |
|-------------------------------|---------------------|------------------------------------|
| payment confirms a booking    | gateway_receipts    | escrow                             |
| payment to give back (late)   | gateway_receipts    | refunds_pending                    |
| booking completed             | escrow              | provider_payable + platform_fees   |
| booking cancelled             | escrow              | refunds_pending                    |
| gateway confirms a refund     | refunds_pending     | refunded                           |
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from slotbook.domain.errors import IllegalTransition

BPS = 10_000


class Account(StrEnum):
    GATEWAY_RECEIPTS = "gateway_receipts"
    ESCROW = "escrow"
    PROVIDER_PAYABLE = "provider_payable"
    PLATFORM_FEES = "platform_fees"
    REFUNDS_PENDING = "refunds_pending"
    REFUNDED = "refunded"


class TransactionKind(StrEnum):
    CAPTURE_TO_ESCROW = "capture_to_escrow"
    CAPTURE_TO_REFUND = "capture_to_refund"
    RELEASE_ESCROW = "release_escrow"
    REFUND_ESCROW = "refund_escrow"
    REFUND_PAID = "refund_paid"


@dataclass(frozen=True, slots=True)
class Entry:
    account: Account
    amount_minor: int  # debit positive, credit negative, never zero
    currency: str
    booking_id: UUID | None = None
    provider_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class Transaction:
    kind: TransactionKind
    entries: tuple[Entry, ...]
    payment_id: UUID | None = None
    booking_id: UUID | None = None

    def __post_init__(self) -> None:
        check_balanced(self.entries)


def check_balanced(entries: Sequence[Entry]) -> None:
    """IllegalTransition unless the entries are whole non-zero amounts summing to zero
    in each currency (two entries at least)."""
    if len(entries) < 2:
        raise IllegalTransition("a ledger transaction has two entries at least")
    totals: dict[str, int] = defaultdict(int)
    for entry in entries:
        if type(entry.amount_minor) is not int or entry.amount_minor == 0:
            raise IllegalTransition(f"a ledger amount is a non-zero integer: {entry}")
        totals[entry.currency] += entry.amount_minor
    if any(totals.values()):
        raise IllegalTransition(f"an unbalanced ledger transaction: {dict(totals)}")


def platform_fee(amount_minor: int, fee_bps: int) -> int:
    """The platform's share in minor units, rounded half up (never more than the amount)."""
    return min(amount_minor, (amount_minor * fee_bps + BPS // 2) // BPS)


def capture_to_escrow(
    *, payment_id: UUID, booking_id: UUID, amount_minor: int, currency: str
) -> Transaction:
    """A payment confirmed a booking: the money is held in the booking's escrow."""
    return Transaction(
        TransactionKind.CAPTURE_TO_ESCROW,
        (
            Entry(Account.GATEWAY_RECEIPTS, amount_minor, currency),
            Entry(Account.ESCROW, -amount_minor, currency, booking_id=booking_id),
        ),
        payment_id=payment_id,
        booking_id=booking_id,
    )


def capture_to_refund(*, payment_id: UUID, amount_minor: int, currency: str) -> Transaction:
    """A payment that confirms nothing (late, or a second one): owed back in full."""
    return Transaction(
        TransactionKind.CAPTURE_TO_REFUND,
        (
            Entry(Account.GATEWAY_RECEIPTS, amount_minor, currency),
            Entry(Account.REFUNDS_PENDING, -amount_minor, currency),
        ),
        payment_id=payment_id,
    )


def release_escrow(
    *,
    booking_id: UUID,
    provider_id: UUID,
    payment_id: UUID,
    amount_minor: int,
    currency: str,
    fee_bps: int,
) -> Transaction:
    """The service was delivered: escrow to the provider, minus the platform's fee."""
    fee = platform_fee(amount_minor, fee_bps)
    entries = [Entry(Account.ESCROW, amount_minor, currency, booking_id=booking_id)]
    if amount_minor - fee:
        entries.append(
            Entry(Account.PROVIDER_PAYABLE, fee - amount_minor, currency, provider_id=provider_id)
        )
    if fee:
        entries.append(Entry(Account.PLATFORM_FEES, -fee, currency))
    return Transaction(
        TransactionKind.RELEASE_ESCROW, tuple(entries), payment_id=payment_id, booking_id=booking_id
    )


def refund_escrow(
    *, booking_id: UUID, payment_id: UUID, amount_minor: int, currency: str
) -> Transaction:
    """The booking was cancelled: its escrow is owed back to the customer."""
    return Transaction(
        TransactionKind.REFUND_ESCROW,
        (
            Entry(Account.ESCROW, amount_minor, currency, booking_id=booking_id),
            Entry(Account.REFUNDS_PENDING, -amount_minor, currency),
        ),
        payment_id=payment_id,
        booking_id=booking_id,
    )


def refund_paid(*, payment_id: UUID, amount_minor: int, currency: str) -> Transaction:
    """The gateway confirmed a refund: no longer owed, given back."""
    return Transaction(
        TransactionKind.REFUND_PAID,
        (
            Entry(Account.REFUNDS_PENDING, amount_minor, currency),
            Entry(Account.REFUNDED, -amount_minor, currency),
        ),
        payment_id=payment_id,
    )


# The amounts of the admin summary, the same in each currency and at the top
AMOUNTS = (
    "payments_succeeded_minor",
    "escrow_held_minor",
    "released_to_providers_minor",
    "platform_fees_minor",
    "refunded_minor",
    "refunds_pending_minor",
)


@dataclass(frozen=True, slots=True)
class CurrencySummary:
    """The ledger's balances in one currency (credits as positives): amounts in different
    currencies are never added together."""

    currency: str
    payments_succeeded_minor: int
    escrow_held_minor: int
    released_to_providers_minor: int
    platform_fees_minor: int
    refunded_minor: int
    refunds_pending_minor: int
    every_transaction_balanced: bool  # every transaction sums to zero in this currency
    matches_payments: bool  # receipts equal the payments the gateways reported paid

    @property
    def balanced(self) -> bool:
        parts = (
            self.escrow_held_minor
            + self.released_to_providers_minor
            + self.platform_fees_minor
            + self.refunded_minor
            + self.refunds_pending_minor
        )
        return (
            self.every_transaction_balanced
            and self.matches_payments
            and self.payments_succeeded_minor == parts
        )


@dataclass(frozen=True, slots=True)
class Summary:
    """The admin summary: each currency's own figures, ordered by currency code."""

    currencies: tuple[CurrencySummary, ...] = ()

    @property
    def balanced(self) -> bool:
        """Every currency balances (an empty ledger does)."""
        return all(c.balanced for c in self.currencies)

    @property
    def currency(self) -> str | None:
        """The one currency the ledger holds, or None when it holds none or several."""
        return self.currencies[0].currency if len(self.currencies) == 1 else None

    def _one(self, amount: Callable[[CurrencySummary], int]) -> int | None:
        """A top-level amount: the one currency's, 0 for an empty ledger, None when there
        are several currencies (a sum of THB and USD is no amount of money)."""
        if len(self.currencies) > 1:
            return None
        return amount(self.currencies[0]) if self.currencies else 0

    @property
    def payments_succeeded_minor(self) -> int | None:
        return self._one(lambda c: c.payments_succeeded_minor)

    @property
    def escrow_held_minor(self) -> int | None:
        return self._one(lambda c: c.escrow_held_minor)

    @property
    def released_to_providers_minor(self) -> int | None:
        return self._one(lambda c: c.released_to_providers_minor)

    @property
    def platform_fees_minor(self) -> int | None:
        return self._one(lambda c: c.platform_fees_minor)

    @property
    def refunded_minor(self) -> int | None:
        return self._one(lambda c: c.refunded_minor)

    @property
    def refunds_pending_minor(self) -> int | None:
        return self._one(lambda c: c.refunds_pending_minor)


def summarise(
    balances: dict[tuple[Account, str], int],
    *,
    unbalanced: dict[str, int],
    payments_received: dict[str, int],
) -> Summary:
    """The summary from each account's balance per currency (debits positive), how many
    transactions do not sum to zero in each currency, and what the gateways reported paid
    in each currency."""
    codes = sorted({c for _, c in balances} | set(unbalanced) | set(payments_received))
    return Summary(
        tuple(
            _in_currency(
                {a: t for (a, c), t in balances.items() if c == code},
                code,
                every_transaction_balanced=not unbalanced.get(code, 0),
                payments_received=payments_received.get(code, 0),
            )
            for code in codes
        )
    )


def _in_currency(
    balances: dict[Account, int],
    currency: str,
    *,
    every_transaction_balanced: bool,
    payments_received: int,
) -> CurrencySummary:
    receipts = balances.get(Account.GATEWAY_RECEIPTS, 0)
    return CurrencySummary(
        currency=currency,
        payments_succeeded_minor=receipts,
        escrow_held_minor=-balances.get(Account.ESCROW, 0),
        released_to_providers_minor=-balances.get(Account.PROVIDER_PAYABLE, 0),
        platform_fees_minor=-balances.get(Account.PLATFORM_FEES, 0),
        refunded_minor=-balances.get(Account.REFUNDED, 0),
        refunds_pending_minor=-balances.get(Account.REFUNDS_PENDING, 0),
        every_transaction_balanced=every_transaction_balanced,
        matches_payments=receipts == payments_received,
    )
