"""Schemathesis over the whole OpenAPI document, in process, on PostgreSQL.

Every operation the document describes is fuzzed (new routes join by themselves), once
with a customer's token and once with a provider's (once only if it takes no token: the
second run would repeat the first), over a catalog with data in it and a sandbox gateway
with payments in it (its own file in a temporary directory), so requests reach real code;
the sandbox's merchant API is put back up after each call of the switch that may have
taken it down. Checks: no server error, every answer conforms to what the document says
(status, content type, headers, body, methods and Allow), schema-violating requests are
refused, and every 4xx is problem+json. Not checked: that every schema-valid request is
accepted, since some rules are not expressible in the document (the booking horizon
moves with the clock, special-use email domains, the characters a name may hold) and
answer 422 by design.

Generation is deterministic, so a run is reproducible; the bound on examples keeps it
near a minute on two busy cores.
"""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis.hooks import HookContext
from schemathesis.python import asgi

from slotbook.adapters.clock import ManualClock
from slotbook.api.app import create_app
from slotbook.config import load_settings
from tests import databases as dbs
from tests.conftest import FAST_HASH, SECRETS, START
from tests.fakes import FakeGateway

MAX_EXAMPLES = 60
METHODS = ("card", "promptpay")
PAID = {"outcome": "succeeded"}
NOWHERE = "http://127.0.0.1:9/webhooks/sandbox"  # the discard port: deliveries fail at once
MERCHANT_API_SWITCH = "/sandbox/control/merchant-api"
# Values that broke slotbook once, mixed into a third of the generated strings (query,
# path, header and body alike), so a bounded, deterministic run still tries them.
ODD_TEXT = [
    "a\x00b",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:00Z",
    "2030-01-03T12:00:00+07:00",
    "1700000000",
    "100% _x_",
    "Spa\u202eevil",
    "\u200b\ufeff",
    "  padded  ",
    "XXX",
    "thb",
]
CONFIG = {
    "generation": {
        "max-examples": MAX_EXAMPLES,
        "deterministic": True,
        "database": "none",
        "dictionaries": {"string": {"dictionary": "odd-text", "probability": 0.3}},
    },
    "dictionaries": {"odd-text": {"values": ODD_TEXT}},
    "phases": {"stateful": {"enabled": False}},
    "checks": {"positive_data_acceptance": {"enabled": False}},
}


@dataclass
class World:
    """What the fuzzer works on: tokens and the ids of real objects."""

    tokens: dict[str, str] = field(default_factory=dict)
    ids: dict[str, list[str]] = field(default_factory=dict)
    sandbox_ids: dict[str, list[str]] = field(default_factory=dict)  # not UUIDs


def _iso(hours: float) -> str:
    return (START + timedelta(hours=hours)).isoformat().replace("+00:00", "Z")


def _seed(client: asgi.ASGIClient, world: World) -> None:
    """A provider with a service and slots, a customer holding one of them, and two
    payments at the sandbox gateway, by card (paid) and by PromptPay (pending)."""

    def call(
        method: str,
        path: str,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        **kw: Any,
    ) -> dict[str, Any]:
        headers = {**(headers or {}), **({"Authorization": f"Bearer {token}"} if token else {})}
        answer = client.request(method, path, headers=headers, **kw)
        assert answer.status_code in (200, 201), answer.text
        body: dict[str, Any] = answer.json()
        return body

    for role in ("provider", "customer"):
        body = {"email": f"{role}@example.com", "password": "password123", "name": role}
        signed = call("POST", "/v1/auth/signup", json={**body, "role": role})
        world.tokens[role] = signed["access_token"]
        if role == "provider":
            world.ids["provider_id"] = [signed["user"]["provider_id"]]
    provider = world.tokens["provider"]
    service = {
        "name": "Massage",
        "category": "massage",
        "duration_minutes": 60,
        "price_minor": 45_000,
        "currency": "THB",
    }
    service_id = call("POST", "/v1/providers/me/services", provider, json=service)["id"]
    world.ids["service_id"] = [service_id]
    starts = [_iso(24 + h) for h in range(6)]
    slots = call(
        "POST",
        "/v1/providers/me/slots",
        provider,
        json={"service_id": service_id, "starts_at": starts},
    )["slots"]
    world.ids["slot_id"] = [s["id"] for s in slots]
    hold = call("POST", "/v1/holds", world.tokens["customer"], json={"slot_id": slots[0]["id"]})
    world.ids["hold_id"] = [hold["id"]]
    world.sandbox_ids["payment_id"] = [_sandbox_payment(call, method) for method in METHODS]
    call("POST", f"/sandbox/payments/{world.sandbox_ids['payment_id'][0]}/complete", json=PAID)


def _sandbox_payment(call: Callable[..., dict[str, Any]], method: str) -> str:
    """A pending payment at the sandbox gateway, payable until a day after START."""
    body = {
        "reference": str(uuid.uuid4()),
        "amount_minor": 45_000,
        "currency": "THB",
        "method": method,
        "return_url": "http://shop.test/returned",
        "notify_url": NOWHERE,
        "expires_at": _iso(24),
    }
    created = call("POST", "/sandbox/payments", json=body, headers={"Idempotency-Key": method})
    return str(created["id"])


# The app starts (and connects) only on its first request, once the fixture below has
# created its database; the hooks draw from FOUND, which the fixture fills.
DATABASE_URL = dbs.new_pg_url()
SANDBOX_DIR = tempfile.TemporaryDirectory(prefix="slotbook-fuzz-sandbox-")  # its own file
# The app's clock stands in 2030, far from the database's: readiness's clock check (tested
# on its own) would answer 503 to every /readyz, so the allowed skew is set out of reach.
APP = create_app(
    load_settings(
        database_url=DATABASE_URL,
        env="test",
        access_log=False,
        max_clock_skew_seconds=1e12,
        sandbox_database_url=f"sqlite:///{Path(SANDBOX_DIR.name) / 'sandbox-gateway.db'}",
        **FAST_HASH,
        **SECRETS,
    ),
    clock=ManualClock(START),
    gateways=FakeGateway().gateways(),
    run_sweeper_in_process=False,
)
FOUND = World()
schema = schemathesis.openapi.from_dict(APP.openapi(), config=schemathesis.Config.from_dict(CONFIG))
schema.app = APP


@schema.hook
def flatmap_path_parameters(ctx: HookContext, parameters: dict[str, Any]) -> Any:
    if _in_sandbox(ctx.operation):
        return _with_real_ids(parameters, FOUND.sandbox_ids, well_formed=lambda _: True)
    return _with_real_ids(parameters, FOUND.ids, well_formed=_is_uuid)


@schema.hook
def flatmap_body(_: HookContext, body: Any) -> Any:
    if not isinstance(body, dict):
        return st.just(body)
    return _with_real_ids(body, FOUND.ids, well_formed=_is_uuid)


def _with_real_ids(
    values: dict[str, Any] | None, ids: dict[str, list[str]], well_formed: Callable[[Any], bool]
) -> st.SearchStrategy[Any]:
    """The generated values, each well-formed id swapped for a real one most of the time
    (a malformed one stays: it is what a negative case is about)."""
    if values is None:
        return st.just(None)
    choices = {
        name: st.sampled_from([value, *ids[name]])
        if name in ids and well_formed(value)
        else st.just(value)
        for name, value in values.items()
    }
    return st.fixed_dictionaries(choices)


def _in_sandbox(operation: Any) -> bool:
    return operation is not None and str(operation.path).startswith("/sandbox/")


def _is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(value)
    except (TypeError, ValueError, AttributeError):
        return False
    return True


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    """The app's own migrated PostgreSQL database, with data in it."""
    dbs.require_postgres(asyncio.run(dbs.pg_reachable()))
    asyncio.run(dbs.create_pg_database(DATABASE_URL))
    try:
        dbs.upgrade(DATABASE_URL)
        with asgi.get_client(APP) as client:
            _seed(client, FOUND)
        yield FOUND
    finally:
        asgi.shutdown_lifespans()
        asyncio.run(dbs.drop_pg_database(DATABASE_URL))
        SANDBOX_DIR.cleanup()


# Operations that take no token run once, with the customer's run (tests/e2e/conftest.py
# leaves their provider's run out at collection): the second would send the same requests.
TOKENLESS = frozenset(
    f"{method.upper()} {path}"
    for path, item in APP.openapi()["paths"].items()
    for method, operation in item.items()
    if not operation.get("security")
)


@pytest.fixture(scope="module", params=["customer", "provider"])
def token(request: pytest.FixtureRequest, world: World) -> str:
    return world.tokens[request.param]


@schemathesis.check
def client_errors_are_problems(ctx: Any, response: schemathesis.Response, case: Any) -> None:
    """Every 4xx answers application/problem+json with its status and a request id."""
    if 400 <= response.status_code < 500:
        media = response.headers.get("content-type", [""])[0]
        assert media.startswith("application/problem+json"), media
        body = response.json()
        assert body["status"] == response.status_code
        assert body["request_id"]
        if response.status_code == 422:
            assert isinstance(body["errors"], list), body


@pytest.mark.postgres
@schema.parametrize()
def test_api(case: schemathesis.Case, token: str) -> None:
    if case.headers and "Authorization" in case.headers:  # left out on purpose otherwise
        case.headers["Authorization"] = f"Bearer {token}"

    try:
        case.call_and_validate(additional_checks=[client_errors_are_problems])
    finally:
        if case.operation.path == MERCHANT_API_SWITCH and case.method.upper() == "PUT":
            _merchant_api_up()


def _merchant_api_up() -> None:
    """The switch back to `up`: a merchant API the fuzzer took down answers every later
    merchant call 503, which is what it is for, and says nothing of those calls."""
    with asgi.get_client(APP) as client:
        answer = client.put(MERCHANT_API_SWITCH, json={"mode": "up"})
    assert answer.status_code == 200, answer.text
