"""The end-to-end payment world over each gateway: a real `slotbook serve` with the
sandbox gateway process, or with Stripe or Omise taking both methods through stand-ins of
their APIs on loopback (a `StandInWorld`, both stand-ins at hand). `pf.complete` moves the
money there; the gateway's signed webhook travels to the server over HTTP, as each
provider sends it (Omise's own 3-D Secure page posts it too)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from tests import omise_stand_in, stripe_stand_in
from tests.e2e import payment_flows as pf
from tests.e2e.booking import client_for
from tests.e2e.servers import Launcher
from tests.omise_stand_in import OmiseStandIn, omise_signed, running_omise
from tests.stripe_stand_in import StripeStandIn, running_stripe, stripe_signed

GATEWAYS = ("sandbox", "stripe", "omise")
CARD_TOKEN = "tokn_test_5g5mep9cj8q5z5k4vwz"  # as Omise.js makes one in the browser


async def _post(world: pf.World, gateway: str, headers: dict[str, str], body: bytes) -> None:
    answer = await world.api.post(f"/v1/webhooks/{gateway}", content=body, headers=headers)
    assert answer.status_code == 200, answer.text


@dataclass
class StripeDriver:
    stand_in: StripeStandIn

    @property
    def url(self) -> str:
        return self.stand_in.url

    def pay_fields(self, method: str) -> dict[str, Any]:
        return {}

    async def settle(self, world: pf.World, payment: dict[str, Any], outcome: str) -> None:
        session_id = payment["gateway_payment_id"]
        if outcome == "succeeded":
            self.stand_in.pay(session_id)
            body = self.stand_in.event("checkout.session.completed", session_id)
        else:  # an async method (PromptPay) that failed; a card is retried on Stripe's page
            assert payment["method"] == "promptpay", "Stripe sends no event for a declined card"
            self.stand_in.pay(session_id, intent_status="requires_payment_method")
            body = self.stand_in.event("checkout.session.async_payment_failed", session_id)
        await _post(world, "stripe", stripe_signed(body, at=int(time.time())), body)


@dataclass
class OmiseDriver:
    stand_in: OmiseStandIn

    @property
    def url(self) -> str:
        return self.stand_in.url

    def pay_fields(self, method: str) -> dict[str, Any]:
        return {"card_token": CARD_TOKEN} if method == "card" else {}

    async def settle(self, world: pf.World, payment: dict[str, Any], outcome: str) -> None:
        status = "successful" if outcome == "succeeded" else "failed"
        charge = self.stand_in.complete(payment["gateway_payment_id"], status)
        body = self.stand_in.event("charge.complete", charge)
        await _post(world, "omise", omise_signed(body, at=int(time.time())), body)


@dataclass(kw_only=True)
class StandInWorld(pf.World):
    """The world of a gateway other than the sandbox: the stand-ins the server talks to."""

    stripe: StripeStandIn
    omise: OmiseStandIn


@asynccontextmanager
async def gateway_world(
    launch: Launcher, database_url: str, gateway: str, **env: str
) -> AsyncIterator[pf.World]:
    """The server with `gateway` taking card and PromptPay payments (for Stripe or Omise a
    `StandInWorld`); `env` goes last, so it may change any setting: e.g.
    SLOTBOOK_PROMPTPAY_GATEWAY=omise beside Stripe's cards (`pf.complete` settles through
    `gateway`'s driver still)."""
    if gateway == "sandbox":
        world = await pf.open_world(launch, database_url, **env)
        try:
            yield world
        finally:
            await pf.close_world(world)
        return
    async with running_stripe() as (stripe, _), running_omise() as (omise, _):
        settings = {
            **pf.SERVER_ENV,
            "SLOTBOOK_CARD_GATEWAY": gateway,
            "SLOTBOOK_PROMPTPAY_GATEWAY": gateway,
            "SLOTBOOK_STRIPE_SECRET_KEY": stripe_stand_in.SECRET_KEY,
            "SLOTBOOK_STRIPE_WEBHOOK_SECRET": stripe_stand_in.WEBHOOK_SECRET,
            "SLOTBOOK_STRIPE_API_BASE": stripe.url,
            "SLOTBOOK_OMISE_SECRET_KEY": omise_stand_in.SECRET_KEY,
            "SLOTBOOK_OMISE_WEBHOOK_SECRET": omise_stand_in.WEBHOOK_SECRET,
            "SLOTBOOK_OMISE_PUBLIC_KEY": omise_stand_in.PUBLIC_KEY,
            "SLOTBOOK_OMISE_API_BASE": omise.url,
            "SLOTBOOK_OMISE_JS_URL": f"{omise.url}/omise.js",
            **env,
        }
        server = await launch.server(database_url, **settings)
        omise.webhook_url = f"{server.url}/v1/webhooks/omise"
        api = client_for(server.url, timeout=pf.WAIT_SECONDS)
        driver: pf.Driver = StripeDriver(stripe) if gateway == "stripe" else OmiseDriver(omise)
        world = StandInWorld(
            launch,
            database_url,
            server,
            server,
            api,
            api,
            settings,
            driver,
            stripe=stripe,
            omise=omise,
        )
        try:
            yield world
        finally:
            await api.aclose()
