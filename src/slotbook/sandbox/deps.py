"""How a sandbox route finds the running gateway, and the merchant API's switch.

A route checks what it was sent before anything else: the running gateway and the
`Idempotency-Key` are asked for in its body (`await running(request)`,
`required(key)`), not as dependencies, which FastAPI would run before reading the body,
answering 503 or 400 to a request that is not even valid (422).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

from fastapi import Header, Request

from slotbook.sandbox.errors import IdempotencyKeyRequired, MerchantApiDown, SandboxError
from slotbook.sandbox.model import MerchantApiMode
from slotbook.sandbox.runtime import Sandbox

T = TypeVar("T")
IdempotencyKey = Annotated[str | None, Header(max_length=255)]


class NotRunning(SandboxError):
    status, code, title = 503, "sandbox_not_running", "Sandbox not running"


async def running(request: Request) -> Sandbox:
    """The gateway serving this request, ready; NotRunning before it has started."""
    sandbox: Sandbox | None = getattr(request.app.state, "sandbox", None)
    if sandbox is None:
        raise NotRunning("the sandbox gateway has not started")
    await sandbox.ensure_ready()
    return sandbox


def required(idempotency_key: str | None) -> str:
    if not idempotency_key:
        raise IdempotencyKeyRequired("send an Idempotency-Key header with this request")
    return idempotency_key


async def merchant_call(sandbox: Sandbox, work: Callable[[], Awaitable[T]]) -> T:
    """Run one merchant API call as the control switch says: refused before doing
    anything (`down`), or done with its answer lost (`lose_answers`)."""
    mode = await sandbox.merchant_api_mode()
    if mode is MerchantApiMode.DOWN:
        raise MerchantApiDown("the merchant API is down (control switch)")
    result = await work()
    if mode is MerchantApiMode.LOSE_ANSWERS:
        raise MerchantApiDown("the request was carried out but its answer was lost")
    return result
