"""What the sandbox refuses, each with its HTTP status and code; answered as
problem+json like the service's errors (sandbox/problems.py), the code kept as `code` and
in the `type` (`/sandbox/problems/<code>`).

```
SandboxError
├── UnknownPayment          404
├── AlreadySettled          409  complete / pay a payment settled before
├── NotPayable              409  the hosted page of a cancelled or expired payment
├── NotRefundable           409  refund of a payment that has not succeeded
├── IdempotencyKeyRequired  400
├── IdempotencyKeyReused    422  the same key with another request
├── RefundTooLarge          422  more than the payment has left, or another currency
├── CardRefused             422  not a test card, or the form wrong (sandbox/paying.py)
├── MerchantApiDown         503  the control switch took the merchant API down
├── NotRunning              503  served before its start (sandbox/deps.py)
└── StorageUnavailable      503  its SQLite file cannot be opened or written now
```
"""

from __future__ import annotations


class SandboxError(Exception):
    """`loc`: the input at fault, as a 422's `errors` name it (`("body", "currency")`)."""

    status, code, title = 400, "invalid_request", "Invalid request"

    def __init__(self, message: str, *, loc: tuple[str | int, ...] = ()) -> None:
        super().__init__(message)
        self.message, self.loc = message, loc


class UnknownPayment(SandboxError):
    status, code, title = 404, "payment_not_found", "Payment not found"


class AlreadySettled(SandboxError):
    status, code, title = 409, "payment_already_settled", "Payment already settled"


class NotPayable(SandboxError):
    status, code, title = 409, "payment_not_payable", "Payment not payable"


class NotRefundable(SandboxError):
    status, code, title = 409, "payment_not_refundable", "Payment not refundable"


class IdempotencyKeyRequired(SandboxError):
    status, code, title = 400, "idempotency_key_required", "Idempotency-Key required"


class IdempotencyKeyReused(SandboxError):
    status, code, title = 422, "idempotency_key_reused", "Idempotency-Key reused"


class RefundTooLarge(SandboxError):
    status, code, title = 422, "refund_invalid", "Refund invalid"


class MerchantApiDown(SandboxError):
    status, code, title = 503, "merchant_api_unavailable", "Merchant API unavailable"


class StorageUnavailable(SandboxError):
    status, code, title = 503, "sandbox_storage_unavailable", "Sandbox storage unavailable"
