"""Slotbook's sandbox adapter when the gateway is not there: nothing listening, a server
that takes the request and never answers, and an answer that is not JSON. Each is
GatewayUnavailable: the call may or may not have happened, and only a retry with the same
idempotency key can tell. And what it makes of a refusal or an outage the server
answers."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest

from slotbook.adapters.gateways.sandbox import SandboxGateway
from slotbook.domain.errors import GatewayRefused, GatewayUnavailable
from tests.sandbox_helpers import WAIT_SECONDS, WEBHOOK_SECRET


async def test_nothing_listening_is_unavailable() -> None:
    adapter = SandboxGateway(base_url="http://127.0.0.1:9/sandbox", webhook_secret=WEBHOOK_SECRET)
    try:
        with pytest.raises(GatewayUnavailable, match="unreachable: ConnectError"):
            await adapter.get_payment("sbx_pay_1")
    finally:
        await adapter.aclose()


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def raw_server(handler: Handler) -> AsyncIterator[str]:
    """A TCP server on loopback speaking whatever `handler` speaks; its base URL. On the way
    out it waits for every connection it took to be closed."""
    handled: list[asyncio.Task[None]] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handled.append(asyncio.current_task())  # type: ignore[arg-type]
        try:
            await handler(reader, writer)
        finally:
            writer.close()
            await writer.wait_closed()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/sandbox"
    finally:
        server.close()
        await server.wait_closed()
        await asyncio.wait_for(asyncio.gather(*handled), WAIT_SECONDS)


async def test_a_gateway_that_never_answers_is_unavailable_after_the_timeout() -> None:
    async def silent(reader: asyncio.StreamReader, _: asyncio.StreamWriter) -> None:
        await reader.read()  # takes the request, never answers, until the client leaves

    async with raw_server(silent) as url:
        adapter = SandboxGateway(base_url=url, webhook_secret=WEBHOOK_SECRET, timeout_seconds=0.2)
        try:
            with pytest.raises(GatewayUnavailable, match="ReadTimeout"):
                await adapter.get_payment("sbx_pay_1")
        finally:
            await adapter.aclose()


async def test_an_unreadable_answer_is_unavailable() -> None:
    async def not_json(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello")
        await writer.drain()

    async with raw_server(not_json) as url:
        adapter = SandboxGateway(base_url=url, webhook_secret=WEBHOOK_SECRET)
        try:
            with pytest.raises(GatewayUnavailable, match="unreadable"):
                await adapter.get_payment("sbx_pay_1")
        finally:
            await adapter.aclose()


def answering(status: int, media: str, body: bytes) -> Handler:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        head = f"HTTP/1.1 {status} X\r\ncontent-type: {media}\r\ncontent-length: {len(body)}\r\n"
        writer.write(head.encode() + b"connection: close\r\n\r\n" + body)
        await writer.drain()

    return handler


PROBLEM = "application/problem+json"


@pytest.mark.parametrize(
    ("status", "media", "body", "raised", "said"),
    [
        (
            409,
            PROBLEM,
            b'{"code": "payment_not_refundable", "detail": "pending"}',
            GatewayRefused,
            "refused: 409 payment_not_refundable: pending",
        ),
        (
            429,
            PROBLEM,
            b'{"code": "slow_down", "detail": "later"}',
            GatewayUnavailable,
            "answered 429 slow_down: later",
        ),
        (
            503,
            PROBLEM,
            b'{"code": "merchant_api_unavailable", "detail": "down"}',
            GatewayUnavailable,
            "answered 503 merchant_api_unavailable: down",
        ),
        (400, "text/html", b"<h1>Bad request</h1>", GatewayRefused, "refused: 400 <h1>Bad"),
        (502, "text/plain", b"", GatewayUnavailable, "answered 502 X"),
    ],
)
async def test_refusals_and_outages_name_the_status_and_the_problem(
    status: int, media: str, body: bytes, raised: type[Exception], said: str
) -> None:
    """4xx is refused, 5xx and 429 unavailable; a problem's code and detail are named, and
    an answer that is no problem (a proxy's page) by its text."""
    async with raw_server(answering(status, media, body)) as url:
        adapter = SandboxGateway(base_url=url, webhook_secret=WEBHOOK_SECRET)
        try:
            with pytest.raises(raised, match=re.escape(said)):
                await adapter.get_payment("sbx_pay_1")
        finally:
            await adapter.aclose()
