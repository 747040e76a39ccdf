"""The sandbox gateway for tests, over real HTTP on loopback: an in-process uvicorn
server (with any clock the test likes), a webhook receiver that records what it gets and
answers as told, and a way to wait on a condition with a deadline."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

from slotbook.adapters.gateways.sandbox import SandboxGateway
from slotbook.domain.clock import Clock
from slotbook.domain.gateway import CreatePayment, PaymentMethod, idempotency_key
from slotbook.sandbox.app import standalone_app
from slotbook.sandbox.config import SandboxConfig
from slotbook.sandbox.runtime import Sandbox
from tests.conftest import SECRETS

WEBHOOK_SECRET = SECRETS["sandbox_webhook_secret"]
PROMPTPAY_ID = "0812345678"
RETURN_URL = "http://shop.test/returned?payment=42"
WAIT_SECONDS = 10.0
POLL_SECONDS = 0.02
T = TypeVar("T")


def assert_sandbox_problem(answer: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The sandbox's refusal as the service answers its own: problem+json, the request's
    id, `code` and its `type`; a 422 with `errors`, a 503 with `Retry-After`."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = answer.json()
    assert (body["type"], body["status"], body["code"]) == (
        f"/sandbox/problems/{code}",
        status,
        code,
    ), body
    assert body["title"]
    assert body["detail"]
    assert body["request_id"] == answer.headers["x-request-id"]
    if status == 422:
        assert body["errors"], body
        assert all(set(e) == {"loc", "msg", "type"} for e in body["errors"]), body
    else:
        assert "errors" not in body
    if status == 503:
        assert answer.headers["retry-after"] == "1"
    return body


async def wait_until(
    check: Callable[[], Awaitable[T | None]], *, timeout: float = WAIT_SECONDS
) -> T:
    """Poll `check` until it returns something other than None, within `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        found = await check()
        if found is not None:
            return found
        if time.monotonic() >= deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(POLL_SECONDS)


class LocalServer:
    """An ASGI app served by uvicorn in this process, on a loopback port of its own. The
    socket listens before uvicorn starts, so early requests wait in its backlog."""

    def __init__(
        self, app: ASGIApp, *, lifespan: str = "on", http: type[asyncio.Protocol] | None = None
    ) -> None:
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(128)
        self.port: int = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app, log_config=None, lifespan=lifespan, ws="none", http=http or "auto"
        )
        self._server = uvicorn.Server(config)
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> LocalServer:
        self._task = asyncio.create_task(self._server.serve(sockets=[self._socket]))
        return self

    async def __aexit__(self, *_: object) -> None:
        self._server.should_exit = True
        if self._task is not None:
            await self._task
        self._socket.close()


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    method: str = "POST"
    path: str = "/"  # as sent, quoted


@dataclass
class Receiver:
    """Records every request; answers the statuses in `answers` first, then 200."""

    answers: deque[int] = field(default_factory=deque)
    received: list[Received] = field(default_factory=list)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        raw_path = scope["raw_path"].decode("latin-1")
        self.received.append(Received(headers, body, scope["method"], raw_path))
        status = self.answers.popleft() if self.answers else 200
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def wait_for(self, count: int, *, timeout: float = WAIT_SECONDS) -> list[Received]:
        async def enough() -> list[Received] | None:
            return self.received if len(self.received) >= count else None

        return await wait_until(enough, timeout=timeout)


@asynccontextmanager
async def receiving() -> AsyncIterator[tuple[Receiver, str]]:
    """A receiver on loopback and its URL."""
    receiver = Receiver()
    async with LocalServer(receiver, lifespan="off") as server:
        yield receiver, f"{server.url}/webhooks/sandbox"


@dataclass
class RunningSandbox:
    sandbox: Sandbox
    url: str  # the base of the gateway's paths: http://127.0.0.1:N/sandbox
    http: httpx.AsyncClient  # raw calls at `url`
    gateway: SandboxGateway  # slotbook's adapter at `url`

    def new_payment(
        self, notify_url: str, *, method: PaymentMethod = PaymentMethod.CARD, **change: Any
    ) -> CreatePayment:
        reference = uuid.uuid4()
        values: dict[str, Any] = {
            "reference": reference,
            "amount_minor": 150_050,
            "currency": "THB",
            "method": method,
            "description": "Thai massage, 60 minutes",
            "return_url": RETURN_URL,
            "notify_url": notify_url,
            "expires_at": self.sandbox.clock.now() + timedelta(minutes=10),
            "idempotency_key": idempotency_key("create-payment", reference),
        }
        return CreatePayment(**{**values, **change})

    async def complete(
        self, payment_id: str, outcome: str = "succeeded", *, webhook: dict[str, Any] | None = None
    ) -> Any:
        """`POST .../complete`, which must answer 200; the payment it answers."""
        body: dict[str, Any] = {"outcome": outcome}
        if webhook is not None:
            body["webhook"] = webhook
        answer = await self.http.post(f"/payments/{payment_id}/complete", json=body)
        assert answer.status_code == 200, answer.text
        return answer.json()

    async def deliveries(self, payment_id: str) -> list[dict[str, Any]]:
        """Every delivery of every event of the payment, oldest first."""
        answer = await self.http.get(f"/payments/{payment_id}/events")
        assert answer.status_code == 200, answer.text
        return [d for event in answer.json()["events"] for d in event["deliveries"]]


def sandbox_config(db_file: Path, **change: Any) -> SandboxConfig:
    values: dict[str, Any] = {
        "database_url": f"sqlite:///{db_file}",
        "webhook_secret": WEBHOOK_SECRET,
        "promptpay_id": PROMPTPAY_ID,
        "merchant_name": "slotbook test shop",
        "webhook_timeout_seconds": 2.0,
    }
    return SandboxConfig(**{**values, **change})


@asynccontextmanager
async def running_sandbox(
    db_file: Path, clock: Clock, **config: Any
) -> AsyncIterator[RunningSandbox]:
    """The gateway on its own loopback port (as `slotbook sandbox-gateway` serves it)."""
    sandbox = Sandbox(sandbox_config(db_file, **config), clock=clock)
    async with LocalServer(standalone_app(sandbox)) as server:
        base = f"{server.url}/sandbox"
        gateway = SandboxGateway(base_url=base, webhook_secret=WEBHOOK_SECRET, timeout_seconds=5)
        async with httpx.AsyncClient(base_url=base, timeout=WAIT_SECONDS) as http:
            assert (await http.get("/healthz")).status_code == 200
            try:
                yield RunningSandbox(sandbox, base, http, gateway)
            finally:
                await gateway.aclose()
