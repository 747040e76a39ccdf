"""The sweeper: releases holds whose time ran out, within a second of their deadline.

Expired holds never block anyone even before the sweeper runs (the hold path takes them
over); the sweeper makes them read `released` / `expired` in storage and frees their slots
for listings. Any number of sweepers may run at once, in `slotbook serve` or alone.
"""

from __future__ import annotations

import asyncio
from contextlib import suppress
from uuid import UUID

import structlog

from slotbook.adapters.db.repos import idempotency as idempotency_keys
from slotbook.adapters.db.repos.hold_writes import release_expired
from slotbook.service_layer import availability, obligations
from slotbook.service_layer.context import Context

BATCH = 500
KEY_BATCH = 1000
KEY_BATCHES_PER_SWEEP = 10
OBLIGATION_ROUNDS = 4
log = structlog.get_logger("slotbook.sweeper")


async def sweep_once(ctx: Context) -> list[UUID]:
    """Release every hold expired at the clock's now, carry out the due obligations of
    the outbox (service_layer/obligations.py), forget expired idempotency keys, and open
    slots from the providers' weekly hours that are due (service_layer/availability.py);
    the ids of the holds released."""
    released = await release_expired_holds(ctx)
    await carry_out_obligations(ctx)
    await forget_expired_keys(ctx)
    await materialise_availability(ctx)
    return released


async def carry_out_obligations(ctx: Context, *, rounds: int = OBLIGATION_ROUNDS) -> int:
    """Up to `rounds` batches of due obligations, and now and then a look for payments
    stuck pending; how many were taken. A fault is logged, not raised: releasing holds
    comes first."""
    taken = 0
    try:
        for _ in range(rounds):
            done = await obligations.carry_out_due(ctx)
            taken += done
            if done < ctx.settings.outbox_batch:
                break
        if ctx.reconcile_timer.due(ctx.clock.now()):
            await obligations.queue_stale_reconciles(ctx)
    except Exception:
        log.exception("obligations_failed")
    return taken


async def release_expired_holds(ctx: Context, *, batch: int = BATCH) -> list[UUID]:
    """Release the holds expired at the clock's now, `batch` per transaction; their ids.

    A hold some other writer has locked is left to the next sweep (see `release_expired`).
    """
    released: list[UUID] = []
    while True:
        async with ctx.db.write() as conn:
            done = await release_expired(conn, now=ctx.clock.now(), batch=batch)
        released.extend(done)
        if len(done) < batch:
            return released


async def forget_expired_keys(
    ctx: Context, *, batch: int = KEY_BATCH, batches: int = KEY_BATCHES_PER_SWEEP
) -> int:
    """Delete idempotency keys past their expiry, `batch` per transaction; how many.

    At most `batches` batches a sweep, so a backlog never delays the release of holds;
    and a fault here is logged, not raised, for the same reason.
    """
    forgotten = 0
    try:
        async with ctx.db.read() as conn:  # most sweeps find none: no write transaction then
            if not await idempotency_keys.any_expired(conn, now=ctx.clock.now()):
                return 0
        for _ in range(batches):
            async with ctx.db.write() as conn:
                done = await idempotency_keys.delete_expired(conn, now=ctx.clock.now(), batch=batch)
            forgotten += done
            if done < batch:
                break
    except Exception:
        log.exception("idempotency_key_sweep_failed")
    if forgotten:
        log.info("idempotency_keys_expired", count=forgotten)
    return forgotten


async def materialise_availability(ctx: Context) -> int:
    """Materialise the providers' availability that is due; how many providers. A fault is
    logged, not raised: releasing holds comes first."""
    try:
        return await availability.materialise_due(ctx)
    except Exception:
        log.exception("availability_sweep_failed")
        return 0


async def run_sweeper(ctx: Context, stop: asyncio.Event) -> None:
    """Sweep every `sweeper_interval_seconds` until `stop` is set; faults are logged, not fatal."""
    interval = ctx.settings.sweeper_interval_seconds
    while not stop.is_set():
        try:
            released = await sweep_once(ctx)
            if released:
                log.info("holds_expired", count=len(released))
        except Exception:
            log.exception("sweep_failed")
            interval = min(interval * 2, 5.0)
        else:
            interval = ctx.settings.sweeper_interval_seconds
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
