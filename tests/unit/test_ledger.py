"""The ledger's rules kept per currency: a transaction balances in each currency, and the
summary never adds amounts in different currencies together."""

from __future__ import annotations

import pytest

from slotbook.domain.errors import IllegalTransition
from slotbook.domain.ledger import Account, Entry, check_balanced, summarise


def test_a_transaction_balances_in_each_currency_not_across_them() -> None:
    with pytest.raises(IllegalTransition):
        check_balanced(
            [Entry(Account.GATEWAY_RECEIPTS, 100, "THB"), Entry(Account.ESCROW, -100, "USD")]
        )
    check_balanced(
        [
            Entry(Account.GATEWAY_RECEIPTS, 100, "THB"),
            Entry(Account.ESCROW, -100, "THB"),
            Entry(Account.GATEWAY_RECEIPTS, 7, "USD"),
            Entry(Account.ESCROW, -7, "USD"),
        ]
    )


def test_the_summary_has_each_currency_apart_and_balances_only_if_each_does() -> None:
    balances = {
        (Account.GATEWAY_RECEIPTS, "THB"): 45_000,
        (Account.ESCROW, "THB"): -45_000,
        (Account.GATEWAY_RECEIPTS, "USD"): 50_000,
        (Account.ESCROW, "USD"): -50_000,
    }
    paid = {"THB": 45_000, "USD": 50_000}
    summary = summarise(balances, unbalanced={}, payments_received=paid)
    assert [(c.currency, c.escrow_held_minor, c.balanced) for c in summary.currencies] == [
        ("THB", 45_000, True),
        ("USD", 50_000, True),
    ]
    assert summary.balanced
    assert (summary.currency, summary.escrow_held_minor) == (None, None)

    # USD receipts that match THB payments do not balance either currency
    wrong = summarise(balances, unbalanced={}, payments_received={"THB": 95_000})
    assert [c.balanced for c in wrong.currencies] == [False, False]
    assert not wrong.balanced
    faulty = summarise(balances, unbalanced={"USD": 1}, payments_received=paid)
    assert [c.balanced for c in faulty.currencies] == [True, False]
    assert not faulty.balanced


def test_one_currency_is_the_top_level_and_an_empty_ledger_reads_zero() -> None:
    one = summarise(
        {(Account.GATEWAY_RECEIPTS, "USD"): 5, (Account.REFUNDS_PENDING, "USD"): -5},
        unbalanced={},
        payments_received={"USD": 5},
    )
    assert (one.currency, one.payments_succeeded_minor, one.refunds_pending_minor) == (
        "USD",
        5,
        5,
    )
    empty = summarise({}, unbalanced={}, payments_received={})
    assert (empty.currencies, empty.payments_succeeded_minor, empty.balanced) == ((), 0, True)
