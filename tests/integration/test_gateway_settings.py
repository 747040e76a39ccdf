"""Which gateway serves which payment method: the sandbox unless settings say otherwise, a
real gateway only with both its key and its webhook secret (refused at start-up when half
configured), each gateway's webhooks at `/v1/webhooks/{gateway}`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from slotbook.adapters.clock import ManualClock
from slotbook.adapters.gateways.omise import OmiseGateway
from slotbook.adapters.gateways.sandbox import SandboxGateway
from slotbook.adapters.gateways.stripe_checkout import StripeGateway
from slotbook.adapters.local_secrets import resolve_secrets
from slotbook.api.app import create_app
from slotbook.bootstrap import build_context, close_context, configured_gateways
from slotbook.config import GatewayName, Settings, load_settings
from slotbook.domain.gateway import PaymentMethod
from tests import omise_stand_in, stripe_stand_in
from tests.conftest import SECRETS

STRIPE = {
    "stripe_secret_key": stripe_stand_in.SECRET_KEY,
    "stripe_webhook_secret": stripe_stand_in.WEBHOOK_SECRET,
}
OMISE = {
    "omise_secret_key": omise_stand_in.SECRET_KEY,
    "omise_webhook_secret": omise_stand_in.WEBHOOK_SECRET,
}


def settings_of(**values: Any) -> Settings:
    return load_settings(env="test", **SECRETS, **values)


async def test_the_sandbox_takes_both_methods_by_default() -> None:
    settings = settings_of()
    gateways = configured_gateways(settings, resolve_secrets(settings))
    try:
        card, promptpay = (gateways.for_method(m) for m in PaymentMethod)
        assert isinstance(card, SandboxGateway)
        assert card is promptpay
    finally:
        await gateways.aclose()


async def test_each_method_takes_the_gateway_its_setting_names() -> None:
    settings = settings_of(card_gateway="stripe", promptpay_gateway="omise", **STRIPE, **OMISE)
    gateways = configured_gateways(settings, resolve_secrets(settings))
    try:
        assert isinstance(gateways.for_method(PaymentMethod.CARD), StripeGateway)
        assert isinstance(gateways.for_method(PaymentMethod.PROMPTPAY), OmiseGateway)
        assert isinstance(gateways.named("omise"), OmiseGateway)
    finally:
        await gateways.aclose()


@pytest.mark.parametrize(
    ("values", "said"),
    [
        ({"card_gateway": "stripe"}, "SLOTBOOK_STRIPE_SECRET_KEY"),
        ({"promptpay_gateway": "omise"}, "SLOTBOOK_OMISE_SECRET_KEY"),
        ({"stripe_secret_key": STRIPE["stripe_secret_key"]}, "set both or neither"),
        ({"omise_webhook_secret": OMISE["omise_webhook_secret"]}, "set both or neither"),
        ({**OMISE, "omise_webhook_secret": "not base64!"}, "must be base64"),
        (
            {"stripe_secret_key": "pk_test_public", "stripe_webhook_secret": "whsec_x"},
            "stripe_secret_key",
        ),
        ({"card_gateway": "paypal"}, "card_gateway"),
        ({**OMISE, "card_gateway": "omise"}, "SLOTBOOK_OMISE_PUBLIC_KEY"),
        ({**OMISE, "omise_public_key": "skey_test_secret"}, "omise_public_key"),
    ],
)
def test_a_half_configured_gateway_is_refused_at_start_up(
    values: dict[str, str], said: str
) -> None:
    with pytest.raises(ValidationError, match=said):
        settings_of(**values)


def test_the_environment_configures_a_gateway(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLOTBOOK_CARD_GATEWAY", "stripe")
    monkeypatch.setenv("SLOTBOOK_STRIPE_SECRET_KEY", STRIPE["stripe_secret_key"])
    with pytest.raises(ValidationError, match="set both or neither"):
        settings_of()
    monkeypatch.setenv("SLOTBOOK_STRIPE_WEBHOOK_SECRET", STRIPE["stripe_webhook_secret"])
    assert settings_of().card_gateway == "stripe"


@pytest.fixture
async def stripe_api(settings: Settings, clock: ManualClock) -> AsyncIterator[httpx.AsyncClient]:
    configured = settings.model_copy(update={"card_gateway": GatewayName.STRIPE, **STRIPE})
    ctx = await build_context(configured, clock=clock)
    app = create_app(context=ctx, run_sweeper_in_process=False)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://slotbook.test") as c:
            yield c
    finally:
        await close_context(ctx)


async def test_stripe_webhooks_have_their_own_path(
    stripe_api: httpx.AsyncClient, clock: ManualClock
) -> None:
    body = b'{"id": "evt_other", "object": "event", "type": "customer.created", "data": {}}'
    at = int(clock.now().timestamp())
    signed = stripe_stand_in.stripe_signed(body, at=at)
    answer = await stripe_api.post("/v1/webhooks/stripe", content=body, headers=signed)
    assert answer.status_code == 200, answer.text
    forged = stripe_stand_in.stripe_signed(body, at=at, secrets=("whsec_forged",))
    answer = await stripe_api.post("/v1/webhooks/stripe", content=body, headers=forged)
    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("application/problem+json")
    stale = stripe_stand_in.stripe_signed(body, at=at - 301)
    assert (
        await stripe_api.post("/v1/webhooks/stripe", content=body, headers=stale)
    ).status_code == 401
    unknown = await stripe_api.post("/v1/webhooks/omise", content=body, headers=signed)
    assert unknown.status_code == 404
