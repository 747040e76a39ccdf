"""Readiness: the database answers, and this process's clock agrees with the database's.

Every expiry decision (a hold running out, a payment deadline) is made with the clock of
the process making it, so processes on several hosts must agree on the time. The allowed
skew is `SLOTBOOK_MAX_CLOCK_SKEW_SECONDS` (default 2 s, well under a hold's 600 s): a
process further off than that reports not ready and logs an error, so a load balancer
takes it out of rotation instead of letting it expire holds early or late.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from slotbook.adapters.db.repos.holds import count_live_holds
from slotbook.domain.errors import ClockSkewed, Unavailable
from slotbook.service_layer.context import Context

log = structlog.get_logger("slotbook.health")


@dataclass(frozen=True, slots=True)
class Readiness:
    clock_skew_seconds: float


async def check_ready(ctx: Context) -> Readiness:
    """Readiness now; DatabaseUnavailable, or ClockSkewed when the clocks disagree."""
    before = ctx.clock.now()
    database_now = await ctx.db.database_now()
    after = ctx.clock.now()
    skew = (database_now - (before + (after - before) / 2)).total_seconds()
    allowed = ctx.settings.max_clock_skew_seconds
    if abs(skew) > allowed:
        log.error("clock_skewed", skew_seconds=round(skew, 3), allowed_seconds=allowed)
        raise ClockSkewed(
            f"this process's clock is {skew:+.3f} s off the database's (allowed: {allowed} s)",
            retry_after_seconds=30,
        )
    return Readiness(clock_skew_seconds=skew)


async def report_at_start(ctx: Context) -> None:
    """Log, once at start-up, whether the process is ready (never fails the start)."""
    try:
        readiness = await check_ready(ctx)
    except Unavailable as exc:
        log.error("not_ready_at_start", problem=exc.slug, detail=exc.detail)
        return
    log.info("ready", clock_skew_seconds=round(readiness.clock_skew_seconds, 3))


async def live_holds(ctx: Context) -> int | None:
    """How many holds are live now, for the metrics; None while the database is away."""
    try:
        async with ctx.db.read() as conn:
            return await count_live_holds(conn, ctx.clock.now())
    except Unavailable:
        return None
