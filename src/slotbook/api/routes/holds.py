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
from slotbook.api.idempotency import answer_of, response_of
from slotbook.api.metrics import HOLD_LATENCY, HOLD_OUTCOMES
from slotbook.api.routes import documented
from slotbook.api.schemas import HoldIn, HoldOut, SlotUnavailableProblem
from slotbook.domain import errors as e
from slotbook.domain.holds import Hold
from slotbook.domain.model import Principal, Role
from slotbook.edge.responses import JSON, dumps
from slotbook.service_layer import holds, payments
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
            "schema": {"type": "string", "minLength": 1, "maxLength": 255},
        }
    ],
    "security": [{"HTTPBearer": []}],
}
_PLACE_RESPONSES = documented(
    201, HoldOut, 401, 403, 404, 409, 422, 503, p409=SlotUnavailableProblem
)
_PLACE_RESPONSES[200] = {"model": HoldOut, "description": "The slot was already yours"}
_PLACE_RESPONSES[409]["description"] = (
    "slot-unavailable, with suggestions; or hold-contended: the customer's own holds were "
    "being placed at the same moment, nothing was decided, retry after Retry-After"
)


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
        HOLD_OUTCOMES["rejected"].inc()
        # each `loc` from the body, as FastAPI reports a body it validates (the error path
        # only: a valid body costs nothing more)
        errors = [{**err, "loc": ("body", *err["loc"])} for err in exc.errors(include_input=False)]
        raise RequestValidationError(errors) from None
    key = request.headers.get("idempotency-key")
    if key is None:
        return await _place(ctx, principal, slot_id)
    answer = await run_idempotent(
        ctx,
        user_id=principal.user_id,
        endpoint="POST /v1/holds",
        key=key,
        request_body=raw,
        handle=lambda hold_id: answer_of(_place(ctx, principal, slot_id, hold_id=hold_id)),
        recover=lambda hold_id: recover_hold(ctx, principal, hold_id),
    )
    return response_of(answer)


async def _place(
    ctx: Context, principal: Principal, slot_id: UUID, *, hold_id: UUID | None = None
) -> Response:
    started = time.perf_counter()
    outcome = "error"
    try:
        placed = await holds.place_hold(
            ctx, slot_id=slot_id, customer_id=principal.user_id, hold_id=hold_id
        )
        # an idempotent retry may find its own hold made by the attempt before it
        created = placed.created or placed.hold.id == hold_id
        outcome = "granted" if created else "same_hold"
        return JSON(render.hold(placed.hold), status_code=201 if created else 200)
    except e.SlotUnavailable:
        outcome = "unavailable"
        raise
    except e.HoldContended:
        outcome = "contended"
        raise
    except e.NotFound:
        outcome = "not_found"
        raise
    finally:
        HOLD_LATENCY.observe(time.perf_counter() - started)
        HOLD_OUTCOMES[outcome].inc()


async def recover_hold(ctx: Context, principal: Principal, hold_id: UUID) -> Answer | None:
    """The answer of an earlier attempt that made hold `hold_id`: 201 with the hold as then."""
    try:
        hold = await holds.get_hold(ctx, hold_id=hold_id, customer_id=principal.user_id)
    except e.HoldNotFound:
        return None
    return Answer(201, dumps(render.hold(hold.as_created())))


@router.get("/v1/holds/{hold_id}", responses=documented(200, HoldOut, 401, 403, 404, 422))
async def get_hold(hold_id: UUID, principal: CurrentCustomer, ctx: Ctx) -> JSON:
    """The customer's own hold, with its payments and `booking_id` once confirmed."""
    hold = await holds.get_hold(ctx, hold_id=hold_id, customer_id=principal.user_id)
    return JSON(await _with_payments(ctx, hold))


@router.delete("/v1/holds/{hold_id}", responses=documented(200, HoldOut, 401, 403, 404, 409))
async def cancel_hold(hold_id: UUID, principal: CurrentCustomer, ctx: Ctx) -> JSON:
    """Cancel the hold: released at once, the slot back on sale."""
    hold = await holds.cancel_hold(ctx, hold_id=hold_id, customer_id=principal.user_id)
    return JSON(await _with_payments(ctx, hold))


async def _with_payments(ctx: Context, hold: Hold) -> dict[str, object]:
    found = await payments.payments_of_hold(ctx, hold.id)
    return render.hold(hold, [render.payment(p, refund) for p, refund in found])
