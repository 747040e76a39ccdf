"""Faults inside the hold step answer 500 and leave nothing behind; a dead database, 503."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx

from slotbook.adapters.clock import ManualClock
from slotbook.api.app import create_app
from slotbook.bootstrap import build_context, close_context
from slotbook.config import load_settings
from slotbook.domain.model import Principal, Role
from slotbook.domain.states import HoldStatus, SlotStatus
from slotbook.service_layer import catalog, holds
from slotbook.service_layer.context import Context
from tests import builders
from tests.conftest import FAST_HASH, SECRETS, START
from tests.e2e.http_helpers import assert_problem, bearer

DAY = START + timedelta(days=1)

# A fault planted in the database itself, at the last write of the hold step: everything
# the step did before it (taking the slot, superseding the customer's previous hold) must
# roll back with it.
FAULTS = {
    "sqlite": [
        "CREATE TRIGGER injected_fault BEFORE INSERT ON holds "
        "WHEN NEW.customer_id = '{customer}' "
        "BEGIN SELECT RAISE(FAIL, 'injected fault'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION injected_fault() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN IF NEW.customer_id = '{customer}' THEN RAISE EXCEPTION 'injected fault'; "
        "END IF; RETURN NEW; END $$",
        "CREATE TRIGGER injected_fault BEFORE INSERT ON holds "
        "FOR EACH ROW EXECUTE FUNCTION injected_fault()",
    ],
}
CLEANUP = {
    "sqlite": ["DROP TRIGGER injected_fault"],
    "postgresql": ["DROP TRIGGER injected_fault ON holds", "DROP FUNCTION injected_fault()"],
}


async def run_sql(ctx: Context, statements: list[str]) -> None:
    async with ctx.db.write() as conn:
        for statement in statements:
            await conn.exec_driver_sql(statement)


async def test_a_fault_inside_the_hold_step_answers_500_and_leaves_nothing(
    ctx: Context, client: httpx.AsyncClient
) -> None:
    _, (old_slot, target, *_) = await builders.provider_with_slots(ctx, first=DAY)
    alice = await builders.customer(ctx)
    previous = (await holds.place_hold(ctx, slot_id=old_slot.id, customer_id=alice.id)).hold
    dialect = "sqlite" if ctx.db.is_sqlite else "postgresql"
    customer = alice.id.hex if ctx.db.is_sqlite else str(alice.id)
    await run_sql(ctx, [s.format(customer=customer) for s in FAULTS[dialect]])
    try:
        token = ctx.tokens.issue(Principal(alice.id, Role.CUSTOMER), now=ctx.clock.now())
        answer = await client.post(
            "/v1/holds", json={"slot_id": str(target.id)}, headers=bearer(token)
        )
        body = assert_problem(answer, 500, "/internal-error")
        assert "injected" not in answer.text  # internals do not leak
        assert body["detail"] == "an unexpected error occurred"
    finally:
        await run_sql(ctx, CLEANUP[dialect])
    assert (await catalog.get_slot(ctx, slot_id=target.id)).status is SlotStatus.AVAILABLE
    assert (await catalog.get_slot(ctx, slot_id=old_slot.id)).status is SlotStatus.HELD
    kept = await holds.get_hold(ctx, hold_id=previous.id, customer_id=alice.id)
    assert kept.status is HoldStatus.ACTIVE  # the supersede rolled back too
    assert (await holds.place_hold(ctx, slot_id=target.id, customer_id=alice.id)).created


async def test_an_unreachable_database_answers_503_without_hanging() -> None:
    settings = load_settings(
        database_url="postgresql://postgres@127.0.0.1:1/nowhere",
        db_connect_timeout_seconds=1.0,
        **FAST_HASH,
        **SECRETS,
    )
    ctx = await build_context(settings, clock=ManualClock(START))
    app = create_app(context=ctx, run_sweeper_in_process=False)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t", timeout=10) as c:
            assert (await c.get("/healthz")).status_code == 200
            assert_problem(await c.get("/readyz"), 503, "/database-unavailable")
            token = ctx.tokens.issue(Principal(uuid.uuid4(), Role.CUSTOMER), now=START)
            answer = await c.post(
                "/v1/holds", json={"slot_id": str(uuid.uuid4())}, headers=bearer(token)
            )
            assert_problem(answer, 503, "/database-unavailable")
            login = await c.post(
                "/v1/auth/login", json={"email": "a@example.com", "password": "whatever1"}
            )
            assert_problem(login, 503)
    finally:
        await close_context(ctx)
