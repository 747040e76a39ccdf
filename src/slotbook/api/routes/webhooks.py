"""Webhooks from the payment gateways: no login, a signature instead."""

from __future__ import annotations

from fastapi import APIRouter, Request

from slotbook.api.deps import context_of
from slotbook.api.routes import documented
from slotbook.domain.errors import BadRequest
from slotbook.edge.responses import JSON
from slotbook.service_layer import webhooks

router = APIRouter(tags=["webhooks"])
MAX_BODY_BYTES = 256 * 1024
_GATEWAY = {
    "parameters": [
        {
            "name": "gateway",
            "in": "path",
            "required": True,
            "schema": {"type": "string"},
            "description": "the gateway posting: sandbox, stripe or omise",
        }
    ]
}


@router.post(
    "/v1/webhooks/{gateway}",
    responses=documented(200, None, 400, 401, 404, 422),  # as when FastAPI read the path
    openapi_extra=_GATEWAY,
)
async def receive_webhook(request: Request) -> JSON:
    """2xx once accepted (a duplicate too); 401 bad or missing signature or a timestamp
    more than 300 s off; 400 a signed body that cannot be read."""
    # served by the fast lane (api/lane.py): the request alone, the gateway from the path
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise BadRequest(f"a webhook body is at most {MAX_BODY_BYTES} bytes")
    event = await webhooks.handle_webhook(
        context_of(request),
        gateway_name=request.path_params["gateway"],
        headers=dict(request.headers),
        body=body,
    )
    return JSON({"received": True, "event_id": event.event_id})
