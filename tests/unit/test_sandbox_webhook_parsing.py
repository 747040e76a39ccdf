"""The adapter's webhook parsing: the signature and the timestamp decide before the body
is read; a signed body it cannot read is malformed; an unknown type is ignored."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks import Webhook

from slotbook.adapters.gateways.sandbox import SandboxGateway
from slotbook.adapters.local_secrets import resolve_secrets
from slotbook.config import load_settings
from slotbook.domain.errors import InvalidSignature, MalformedWebhook
from slotbook.domain.gateway import EventKind, GatewayEvent
from tests.conftest import SECRETS

SECRET = SECRETS["sandbox_webhook_secret"]
OTHER_SECRET = "whsec_c29tZW9uZS1lbHNlcy1zZWNyZXQtbm90LW91cnMtMTIz"
NOW = datetime(2030, 1, 1, 8, 0, tzinfo=UTC)
REFERENCE = uuid.UUID("6f1c7c5e-2b7e-4a3e-9a51-0a4f0b0c9d11")
EVENT_ID = "evt_0123456789abcdef01234567"


@pytest.fixture
async def gateway() -> AsyncIterator[SandboxGateway]:
    adapter = SandboxGateway(base_url="http://127.0.0.1:1/sandbox", webhook_secret=SECRET)
    yield adapter
    await adapter.aclose()


async def test_from_settings_verifies_with_the_resolved_secret(tmp_path: Path) -> None:
    settings = load_settings(
        database_url=f"sqlite:///{tmp_path / 'slotbook.db'}",
        sandbox_gateway_url="http://127.0.0.1:1/sandbox",
    )
    secrets = resolve_secrets(settings)  # generated into the secrets file beside it
    adapter = SandboxGateway.from_settings(settings, secrets)
    try:
        headers, body = signed(event(), secret=secrets.sandbox_webhook_secret)
        assert adapter.parse_webhook(headers, body, now=NOW).event_id == EVENT_ID
        refused(adapter, *signed(event()))  # the suite's secret is not this one
    finally:
        await adapter.aclose()


def event(kind: str = "payment.succeeded", **change: Any) -> dict[str, Any]:
    payment = {
        "id": "sbx_pay_1",
        "reference": str(REFERENCE),
        "status": "succeeded",
        "amount_minor": 150_050,
        "currency": "THB",
        "method": "card",
    }
    body: dict[str, Any] = {
        "id": EVENT_ID,
        "type": kind,
        "created_at": "2030-01-01T08:00:00.000Z",
        "data": {"payment": payment},
    }
    return {**body, **change}


def signed(
    body: bytes | str | dict[str, Any],
    *,
    at: datetime = NOW,
    secret: str = SECRET,
    message_id: str = EVENT_ID,
) -> tuple[dict[str, str], bytes]:
    """Headers and body as the Standard Webhooks package signs them."""
    text = json.dumps(body) if isinstance(body, dict) else body
    raw = text if isinstance(text, bytes) else text.encode()
    signature = Webhook(secret).sign(message_id, at, raw.decode())
    headers = {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
    }
    return headers, raw


def test_a_payment_event(gateway: SandboxGateway) -> None:
    headers, body = signed(event())
    assert gateway.parse_webhook(headers, body, now=NOW) == GatewayEvent(
        event_id=EVENT_ID,
        kind=EventKind.PAYMENT_SUCCEEDED,
        gateway_payment_id="sbx_pay_1",
        reference=REFERENCE,
        amount_minor=150_050,
        currency="THB",
    )


def test_a_refund_event_carries_the_refund_and_its_amount(gateway: SandboxGateway) -> None:
    body = event("refund.succeeded")
    refund = {"id": "sbx_re_1", "payment_id": "sbx_pay_1", "amount_minor": 50_000}
    body["data"]["refund"] = {**refund, "currency": "THB", "status": "succeeded"}
    parsed = gateway.parse_webhook(*signed(body), now=NOW)
    assert parsed.kind is EventKind.REFUND_SUCCEEDED
    assert (parsed.gateway_refund_id, parsed.amount_minor) == ("sbx_re_1", 50_000)
    assert (parsed.gateway_payment_id, parsed.reference) == ("sbx_pay_1", REFERENCE)


def test_an_unknown_type_is_ignored_unread(gateway: SandboxGateway) -> None:
    body = {"id": EVENT_ID, "type": "payout.paid", "data": {"whatever": [1, 2]}}
    parsed = gateway.parse_webhook(*signed(body), now=NOW)
    assert parsed == GatewayEvent(event_id=EVENT_ID, kind=EventKind.IGNORED)


def test_header_names_are_case_insensitive(gateway: SandboxGateway) -> None:
    headers, body = signed(event())
    upper = {name.title(): value for name, value in headers.items()}
    assert gateway.parse_webhook(upper, body, now=NOW).event_id == EVENT_ID


def test_one_valid_signature_among_several_is_enough(gateway: SandboxGateway) -> None:
    headers, body = signed(event())
    stale_key, _ = signed(event(), secret=OTHER_SECRET)
    headers["webhook-signature"] = (
        f"{stale_key['webhook-signature']} {headers['webhook-signature']}"
    )
    assert gateway.parse_webhook(headers, body, now=NOW).kind is EventKind.PAYMENT_SUCCEEDED


@pytest.mark.parametrize("offset", [-300, 300])
def test_a_timestamp_300_s_off_is_still_accepted(gateway: SandboxGateway, offset: int) -> None:
    headers, body = signed(event(), at=NOW + timedelta(seconds=offset))
    assert gateway.parse_webhook(headers, body, now=NOW).event_id == EVENT_ID


def refused(gateway: SandboxGateway, headers: dict[str, str], body: bytes) -> str:
    with pytest.raises(InvalidSignature) as caught:
        gateway.parse_webhook(headers, body, now=NOW)
    return caught.value.detail


def test_forged_with_another_secret(gateway: SandboxGateway) -> None:
    assert "no webhook signature" in refused(gateway, *signed(event(), secret=OTHER_SECRET))


def test_a_changed_body_or_id_breaks_the_signature(gateway: SandboxGateway) -> None:
    headers, body = signed(event())
    refused(gateway, headers, body.replace(b"150050", b"100"))
    refused(gateway, {**headers, "webhook-id": "evt_other"}, body)
    refused(gateway, {**headers, "webhook-timestamp": str(int(NOW.timestamp()) + 1)}, body)


@pytest.mark.parametrize("offset", [-301, 301, -86_400, 10**9])
def test_stale_or_future_timestamps(gateway: SandboxGateway, offset: int) -> None:
    detail = refused(gateway, *signed(event(), at=NOW + timedelta(seconds=offset)))
    assert "300 s" in detail


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_headers(gateway: SandboxGateway, missing: str) -> None:
    headers, body = signed(event())
    del headers[missing]
    assert "required" in refused(gateway, headers, body)


@pytest.mark.parametrize(
    "header", ["", "garbage", "v1", "v1,", "v1,!!not-base64!!", "v2,c2lnbmF0dXJl", ",,,", "v1,a b"]
)
def test_malformed_signature_headers(gateway: SandboxGateway, header: str) -> None:
    headers, body = signed(event())
    refused(gateway, {**headers, "webhook-signature": header}, body)


@pytest.mark.parametrize("stamp", ["", "soon", "1.5e9", "-5", "0", "99999999999999999999", "1٣"])
def test_malformed_timestamps(gateway: SandboxGateway, stamp: str) -> None:
    headers, body = signed(event())
    refused(gateway, {**headers, "webhook-timestamp": stamp}, body)


def test_a_body_that_is_not_utf8_is_not_what_was_signed(gateway: SandboxGateway) -> None:
    headers, _ = signed(event())
    refused(gateway, headers, b"\xff\xfe{}")


@pytest.mark.parametrize(
    "body",
    [
        "not json at all",
        "[]",
        '{"type": "payment.succeeded"}',
        json.dumps(event(data={})),
        json.dumps(event(data={"payment": {"id": "sbx_pay_1"}})),
        json.dumps(event(id="evt_another_one")),
        json.dumps(event("refund.succeeded")),  # no refund in it
    ],
)
def test_signed_but_unreadable_is_malformed(gateway: SandboxGateway, body: str) -> None:
    with pytest.raises(MalformedWebhook):
        gateway.parse_webhook(*signed(body), now=NOW)


@pytest.mark.parametrize(("name", "value"), [("reference", "order-42"), ("amount_minor", "150050")])
def test_a_payment_field_of_the_wrong_kind_is_malformed(
    gateway: SandboxGateway, name: str, value: str
) -> None:
    body = event()
    body["data"]["payment"][name] = value
    with pytest.raises(MalformedWebhook):
        gateway.parse_webhook(*signed(body), now=NOW)
