"""Operations: liveness, readiness, metrics."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from slotbook.api.deps import Ctx
from slotbook.api.metrics import ACTIVE_HOLDS, exposition
from slotbook.api.routes import documented
from slotbook.edge.responses import JSON
from slotbook.service_layer import health

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> JSON:
    """200 while the process is up."""
    return JSON({"status": "ok"})


@router.get("/readyz", responses=documented(200, None, 503))
async def readyz(ctx: Ctx) -> JSON:
    """200 when the database answers and this process's clock agrees with it, else 503."""
    readiness = await health.check_ready(ctx)
    return JSON({"status": "ready", "clock_skew_seconds": round(readiness.clock_skew_seconds, 3)})


@router.get("/metrics", response_class=Response)
async def metrics(ctx: Ctx) -> Response:
    """Prometheus text format."""
    count = await health.live_holds(ctx)
    if count is not None:
        ACTIVE_HOLDS.set(count)
    body, content_type = exposition()
    return Response(body, media_type=content_type)
