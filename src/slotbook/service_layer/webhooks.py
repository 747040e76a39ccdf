"""Webhooks from the gateways: verified first, then recorded once with their effect.

The signature and timestamp are checked by the gateway's adapter before anything else of
the body is read (401 otherwise, 400 for a signed body that makes no sense). The event is
recorded, unique on (gateway, event id), in the same transaction as its effect
(service_layer/payment_outcomes.py): a crash loses neither, a redelivery applies nothing
twice, and events may come in any order.
"""

from __future__ import annotations

from collections.abc import Mapping

import structlog

from slotbook.domain.gateway import EventKind, GatewayEvent
from slotbook.service_layer import payment_outcomes as outcomes
from slotbook.service_layer.context import Context

log = structlog.get_logger("slotbook.webhooks")


async def handle_webhook(
    ctx: Context, *, gateway_name: str, headers: Mapping[str, str], body: bytes
) -> GatewayEvent:
    """Verify, then apply one webhook; the event (also when it was a duplicate)."""
    gateway = ctx.gateways.named(gateway_name)
    event = gateway.parse_webhook(headers, body, now=ctx.clock.now())
    report = outcomes.Report(
        payment_id=None,  # found from the event's ids in the same transaction as its effect
        gateway=gateway_name,
        gateway_payment_id=event.gateway_payment_id,
        reference=event.reference,
        amount_minor=event.amount_minor,
        event=event,
    )
    if event.kind is EventKind.PAYMENT_SUCCEEDED:
        await outcomes.payment_succeeded(ctx, report)
    elif event.kind is EventKind.PAYMENT_FAILED:
        await outcomes.payment_failed(ctx, report)
    elif event.kind is EventKind.REFUND_SUCCEEDED and event.gateway_refund_id:
        await outcomes.refund_succeeded(ctx, report, gateway_refund_id=event.gateway_refund_id)
    return event
