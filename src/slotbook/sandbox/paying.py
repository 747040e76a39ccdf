"""The rules of the hosted page: what a payment's page shows, what a test card does, and
how an amount reads."""

from __future__ import annotations

import re
from datetime import datetime

from slotbook.domain.gateway import GatewayPaymentStatus
from slotbook.sandbox.errors import SandboxError
from slotbook.sandbox.model import Outcome, PaymentRecord

TEST_CARDS = {"4242424242424242": Outcome.SUCCEEDED, "4000000000000002": Outcome.DECLINED}
UNKNOWN_CARD = (
    "That card is not a sandbox test card. Use 4242 4242 4242 4242 to pay, or "
    "4000 0000 0000 0002 to be declined."
)


class CardRefused(SandboxError):
    status, code, title = 422, "card_refused", "Card refused"


def amount_text(amount_minor: int, currency: str) -> str:
    """Minor units as a person reads them: 150050 THB -> "฿1,500.50"."""
    whole, minor = divmod(amount_minor, 100)
    return f"฿{whole:,}.{minor:02d}" if currency == "THB" else f"{whole:,}.{minor:02d} {currency}"


def page_state(payment: PaymentRecord, now: datetime) -> str:
    """`payable`, or why not: `succeeded`, `failed`, `cancelled`, `expired`."""
    if payment.status is not GatewayPaymentStatus.PENDING:
        return payment.status.value
    return "expired" if payment.expired(now) else "payable"


def card_outcome(card_number: str, expiry: str, cvc: str) -> Outcome | CardRefused:
    """The test card's outcome, or what is wrong with the form (its field in `loc`)."""
    if not re.fullmatch(r"(0[1-9]|1[0-2])\s*/\s*\d{2}", expiry.strip()):
        message = "Enter the expiry date as MM/YY (any future date works here)."
        return CardRefused(message, loc=("body", "expiry"))
    if not re.fullmatch(r"\d{3,4}", cvc.strip()):
        message = "Enter the 3 or 4 digit security code (any digits work here)."
        return CardRefused(message, loc=("body", "cvc"))
    outcome = TEST_CARDS.get(re.sub(r"[\s-]", "", card_number))
    return outcome or CardRefused(UNKNOWN_CARD, loc=("body", "card_number"))
