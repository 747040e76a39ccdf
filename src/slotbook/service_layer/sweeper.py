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

from slotbook.adapters.db.repos.hold_writes import release_expired
from slotbook.service_layer.context import Context

BATCH = 500
log = structlog.get_logger("slotbook.sweeper")


async def sweep_once(ctx: Context) -> list[UUID]:
    """Release every hold expired at the clock's now, in batches; the ids released."""
    released: list[UUID] = []
    while True:
        async with ctx.db.write() as conn:
            batch = await release_expired(conn, now=ctx.clock.now(), batch=BATCH)
        released.extend(batch)
        if len(batch) < BATCH:
            return released


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
