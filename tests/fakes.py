"""A payment gateway kept in memory, for service tests that need no HTTP in between.

It keeps the rules a real gateway keeps (the end-to-end tests run the real sandbox
gateway as its own process): one payment per idempotency key, a paid payment cannot be
cancelled (cancelling answers its success), refunds once per key, and it can be down.
Each settlement and refund sends a webhook event (`sent`); `webhook` signs one for
delivery, and `parse_webhook` accepts only what it signed.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from slotbook.domain.errors import GatewayRefused, GatewayUnavailable, InvalidSignature
from slotbook.domain.gateway import (
    CreatedPayment,
    CreatePayment,
    EventKind,
    GatewayEvent,
    GatewayPaymentStatus,
    PaymentMethod,
    PaymentState,
    RefundRequest,
    RefundResult,
    RefundStatus,
)
from slotbook.service_layer.gateways import Gateways

_ids = itertools.count(1)
SIGNATURE_HEADER = "fake-signature"
_SECRET = b"fake-webhook-secret"
_EVENT_OF = {
    GatewayPaymentStatus.SUCCEEDED: EventKind.PAYMENT_SUCCEEDED,
    GatewayPaymentStatus.FAILED: EventKind.PAYMENT_FAILED,
}


@dataclass
class FakeGateway:
    name: str = "fake"
    down: bool = False
    takes_card_token: bool = False
    promptpay_qr_image: bool = False
    declined_tokens: frozenset[str] = frozenset()  # card tokens it refuses to charge
    # runs while a payment is being created, before the gateway answers (a race to play)
    while_creating: Callable[[CreatePayment], Awaitable[None]] | None = None

    def __post_init__(self) -> None:
        self.payments: dict[str, PaymentState] = {}
        self.created: dict[str, CreatePayment] = {}
        self.by_key: dict[str, str] = {}
        self.refunds: dict[str, RefundResult] = {}
        self.cancel_calls: list[str] = []
        self.sent: list[GatewayEvent] = []  # every webhook event, in the order sent

    def _up(self) -> None:
        if self.down:
            raise GatewayUnavailable("the fake gateway is down")

    async def create_payment(self, request: CreatePayment) -> CreatedPayment:
        self._up()
        if self.while_creating is not None:
            await self.while_creating(request)
        if request.card_token in self.declined_tokens:
            raise GatewayRefused("the fake gateway declined the card")
        gid = self.by_key.get(request.idempotency_key)
        if gid is None:
            gid = f"fake_{next(_ids)}"
            self.by_key[request.idempotency_key] = gid
            self.created[gid] = request
            self.payments[gid] = PaymentState(
                gid,
                GatewayPaymentStatus.PENDING,
                request.amount_minor,
                request.currency,
                request.reference,
            )
        return CreatedPayment(gid, f"https://fake.example/pay/{gid}")

    async def get_payment(self, gateway_payment_id: str) -> PaymentState:
        self._up()
        return self.payments[gateway_payment_id]

    async def cancel_payment(
        self, gateway_payment_id: str, *, idempotency_key: str
    ) -> PaymentState:
        self._up()
        self.cancel_calls.append(gateway_payment_id)
        state = self.payments[gateway_payment_id]
        if state.status is GatewayPaymentStatus.PENDING:
            state = replace(state, status=GatewayPaymentStatus.CANCELLED)
            self.payments[gateway_payment_id] = state
        return state

    async def refund(self, request: RefundRequest) -> RefundResult:
        self._up()
        if request.idempotency_key not in self.refunds:
            assert (
                self.payments[request.gateway_payment_id].status is GatewayPaymentStatus.SUCCEEDED
            )
            result = RefundResult(f"fake_re_{next(_ids)}", RefundStatus.SUCCEEDED)
            self.refunds[request.idempotency_key] = result
            paid = self.payments[request.gateway_payment_id]
            self._send(EventKind.REFUND_SUCCEEDED, paid, gateway_refund_id=result.gateway_refund_id)
        return self.refunds[request.idempotency_key]

    def parse_webhook(
        self, headers: Mapping[str, str], body: bytes, *, now: datetime
    ) -> GatewayEvent:
        """Only a body this gateway signed (`webhook`); InvalidSignature otherwise."""
        given = {k.lower(): v for k, v in headers.items()}.get(SIGNATURE_HEADER, "")
        if not hmac.compare_digest(given, _sign(body)):
            raise InvalidSignature("not signed by the fake gateway")
        fields = json.loads(body)
        reference = fields["reference"]
        return GatewayEvent(
            event_id=fields["event_id"],
            kind=EventKind(fields["kind"]),
            gateway_payment_id=fields["gateway_payment_id"],
            reference=uuid.UUID(reference) if reference else None,
            amount_minor=fields["amount_minor"],
            currency=fields["currency"],
            gateway_refund_id=fields["gateway_refund_id"],
        )

    def webhook(self, event: GatewayEvent) -> tuple[dict[str, str], bytes]:
        """The event as the gateway posts it: signed headers and a JSON body."""
        body = json.dumps(
            {
                "event_id": event.event_id,
                "kind": event.kind.value,
                "gateway_payment_id": event.gateway_payment_id,
                "reference": str(event.reference) if event.reference else None,
                "amount_minor": event.amount_minor,
                "currency": event.currency,
                "gateway_refund_id": event.gateway_refund_id,
            }
        ).encode()
        return {SIGNATURE_HEADER: _sign(body), "content-type": "application/json"}, body

    def settle(self, gateway_payment_id: str, status: GatewayPaymentStatus) -> PaymentState:
        """The customer pays (or is declined) on the hosted page; even a cancelled one.
        A success or a decline sends its webhook event."""
        state = replace(self.payments[gateway_payment_id], status=status)
        self.payments[gateway_payment_id] = state
        if status in _EVENT_OF:
            self._send(_EVENT_OF[status], state)
        return state

    def resend(self, event: GatewayEvent) -> GatewayEvent:
        """The same news again under a new event id (a gateway's retry after a timeout)."""
        again = replace(event, event_id=f"evt_{uuid.uuid4().hex}")
        self.sent.append(again)
        return again

    def _send(
        self, kind: EventKind, state: PaymentState, *, gateway_refund_id: str | None = None
    ) -> None:
        self.sent.append(
            GatewayEvent(
                event_id=f"evt_{uuid.uuid4().hex}",
                kind=kind,
                gateway_payment_id=state.gateway_payment_id,
                reference=state.reference,
                amount_minor=state.amount_minor,
                currency=state.currency,
                gateway_refund_id=gateway_refund_id,
            )
        )

    def gateways(self) -> Gateways:
        return Gateways({PaymentMethod.CARD: self, PaymentMethod.PROMPTPAY: self})


def _sign(body: bytes) -> str:
    return hmac.new(_SECRET, body, hashlib.sha256).hexdigest()
