"""Admin: the ledger's summary."""

from __future__ import annotations

from fastapi import APIRouter

from slotbook.api import render
from slotbook.api.deps import Ctx, CurrentAdmin
from slotbook.api.payment_schemas import LedgerSummaryOut
from slotbook.api.routes import documented
from slotbook.edge.responses import JSON
from slotbook.service_layer.ledger import ledger_summary

router = APIRouter(tags=["admin"])


@router.get("/v1/admin/ledger/summary", responses=documented(200, LedgerSummaryOut, 401, 403))
async def summary(_admin: CurrentAdmin, ctx: Ctx) -> JSON:
    """Balances of the escrow ledger per currency; `balanced` when, in every currency,
    every transaction sums to zero and succeeded = escrow held + released + fees + refunded
    + refunds pending. The top-level amounts are the one currency's (null when several)."""
    return JSON(render.ledger_summary(await ledger_summary(ctx)))
