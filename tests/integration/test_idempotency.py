"""Idempotency-Key: replay, refusal of a different body, and a key still in flight."""

from __future__ import annotations

import hashlib

import pytest

from slotbook.adapters.db.repos import idempotency as repo
from slotbook.domain.errors import IdempotencyKeyInFlight, IdempotencyKeyReused
from slotbook.service_layer.context import Context
from slotbook.service_layer.idempotency import Answer, run_idempotent
from tests import builders


async def test_replay_reuse_in_flight_and_failure(ctx: Context) -> None:
    alice = await builders.customer(ctx)
    calls: list[int] = []

    async def handle() -> Answer:
        calls.append(1)
        return Answer(201, b'{"ok": true}')

    args = {"user_id": alice.id, "endpoint": "POST /v1/holds", "key": "k"}
    first = await run_idempotent(ctx, **args, request_body=b"a", handle=handle)
    again = await run_idempotent(ctx, **args, request_body=b"a", handle=handle)
    assert first == again == Answer(201, b'{"ok": true}')
    assert len(calls) == 1
    with pytest.raises(IdempotencyKeyReused):
        await run_idempotent(ctx, **args, request_body=b"b", handle=handle)

    in_flight = repo.KeyRef(user_id=alice.id, endpoint="POST /v1/holds", key="busy")
    async with ctx.db.write() as conn:
        assert (
            await repo.claim(
                conn, in_flight, request_hash=hashlib.sha256(b"x").hexdigest(), now=ctx.clock.now()
            )
            is None
        )
    with pytest.raises(IdempotencyKeyInFlight):
        await run_idempotent(
            ctx,
            user_id=alice.id,
            endpoint="POST /v1/holds",
            key="busy",
            request_body=b"x",
            handle=handle,
        )

    async def broken() -> Answer:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await run_idempotent(ctx, **{**args, "key": "k2"}, request_body=b"a", handle=broken)
    retried = await run_idempotent(ctx, **{**args, "key": "k2"}, request_body=b"a", handle=handle)
    assert retried.status_code == 201  # a failed first attempt frees its key
