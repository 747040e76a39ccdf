"""Holds: the 10-minute lock. POST is the hot path and is kept lean on purpose.

POST /v1/holds reads its body and token by hand rather than through FastAPI's dependency
injection, which measured as the largest cost of an idiomatic route; it still validates
the body with the same pydantic model and answers the same problems.
"""

from __future__ import annotations

import time
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.responses import Response

from slotbook.api import render
from slotbook.api.deps import Ctx, CurrentCustomer, context_of, principal_from_header
from slotbook.api.errors import domain_problem, status_of
from slotbook.api.metrics import HOLD_ATTEMPTS, HOLD_LATENCY
from slotbook.api.responses import JSON
from slotbook.api.routes import documented
from slotbook.api.schemas import HoldIn, HoldOut, SlotUnavailableProblem
from slotbook.domain import errors as e
from slotbook.domain.model import Principal, Role
from slotbook.service_layer import holds
from slotbook.service_layer.context import Context
from slotbook.service_layer.idempotency import Answer, run_idempotent

router = APIRouter(tags=["holds"])

_HOLD_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": HoldIn.model_json_schema()}},
    },
    "parameters": [
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "schema": {"type": "string", "maxLength": 255},
        }
    ],
    "security": [{"HTTPBearer": []}],
}
_PLACE_RESPONSES = documented(
    201, HoldOut, 401, 403, 404, 409, 422, 503, p409=SlotUnavailableProblem
)
_PLACE_RESPONSES[200] = {"model": HoldOut, "description": "The slot was already yours"}


@router.post("/v1/holds", status_code=201, responses=_PLACE_RESPONSES, openapi_extra=_HOLD_BODY)
async def place_hold(request: Request) -> Response:
    """Lock a slot for 10 minutes: 201 hold, 200 the same hold, or 409 with suggestions."""
    ctx = context_of(request)
    principal = principal_from_header(ctx, request.headers.get("authorization"))
    if principal.role is not Role.CUSTOMER:
        raise e.Forbidden("only customers can hold slots")
    raw = await request.body()
    try:
        slot_id = HoldIn.model_validate_json(raw).slot_id
    except ValidationError as exc:
        HOLD_ATTEMPTS.labels("rejected").inc()
        raise RequestValidationError(exc.errors(include_input=False)) from None
    key = request.headers.get("idempotency-key")
    if key is None:
        return await _place(ctx, principal, slot_id)
    answer = await run_idempotent(
        ctx,
        user_id=principal.user_id,
        endpoint="POST /v1/holds",
        key=key,
        request_body=raw,
        handle=lambda: _answer(ctx, principal, slot_id),
    )
    media = "application/problem+json" if answer.status_code >= 400 else "application/json"
    return Response(answer.body, status_code=answer.status_code, media_type=media)


async def _place(ctx: Context, principal: Principal, slot_id: UUID) -> Response:
    started = time.perf_counter()
    outcome = "error"
    try:
        placed = await holds.place_hold(ctx, slot_id=slot_id, customer_id=principal.user_id)
        outcome = "granted" if placed.created else "same_hold"
        return JSON(render.hold(placed.hold), status_code=201 if placed.created else 200)
    except e.SlotUnavailable:
        outcome = "unavailable"
        raise
    except e.NotFound:
        outcome = "not_found"
        raise
    finally:
        HOLD_LATENCY.observe(time.perf_counter() - started)
        HOLD_ATTEMPTS.labels(outcome).inc()


async def _answer(ctx: Context, principal: Principal, slot_id: UUID) -> Answer:
    """The hold's answer as bytes, client errors included, for the idempotency store."""
    try:
        response = await _place(ctx, principal, slot_id)
    except e.SlotbookError as exc:
        if status_of(exc) >= 500:
            raise
        response = domain_problem(exc)
    return Answer(response.status_code, bytes(response.body))


@router.get("/v1/holds/{hold_id}", responses=documented(200, HoldOut, 401, 403, 404, 422))
async def get_hold(hold_id: UUID, principal: CurrentCustomer, ctx: Ctx) -> JSON:
    """The customer's own hold, with its payments and `booking_id` once confirmed."""
    hold = await holds.get_hold(ctx, hold_id=hold_id, customer_id=principal.user_id)
    return JSON(render.hold(hold))


@router.delete("/v1/holds/{hold_id}", responses=documented(200, HoldOut, 401, 403, 404, 409))
async def cancel_hold(hold_id: UUID, principal: CurrentCustomer, ctx: Ctx) -> JSON:
    """Cancel the hold: released at once, the slot back on sale."""
    hold = await holds.cancel_hold(ctx, hold_id=hold_id, customer_id=principal.user_id)
    return JSON(render.hold(hold))
