"""The corked protocol under uvicorn, over a real socket: pipelined answers in order,
`Connection: close` answered in full before the close, a large streamed body whole."""

from __future__ import annotations

import asyncio

from starlette.types import Receive, Scope, Send

from slotbook.edge.http import CorkedHttpToolsProtocol
from tests.sandbox_helpers import LocalServer

BIG = 8 * 1024 * 1024  # well past any socket buffer: the writes meet flow control


async def _app(scope: Scope, receive: Receive, send: Send) -> None:
    assert scope["type"] == "http"
    path = scope["path"]
    if path == "/big":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        chunk = b"x" * (BIG // 8)
        for _ in range(8):
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return
    body = path.encode()
    headers = [(b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _read_answer(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    return head.split(b"\r\n")[0], await reader.readexactly(length)


async def test_pipelined_requests_are_answered_in_order_on_one_connection() -> None:
    async with LocalServer(_app, lifespan="off", http=CorkedHttpToolsProtocol) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"".join(f"GET /{n} HTTP/1.1\r\nHost: t\r\n\r\n".encode() for n in range(3)))
        answers = [await _read_answer(reader) for _ in range(3)]
        writer.close()
    assert answers == [(b"HTTP/1.1 200 OK", f"/{n}".encode()) for n in range(3)]


async def test_connection_close_is_answered_in_full_before_the_close() -> None:
    async with LocalServer(_app, lifespan="off", http=CorkedHttpToolsProtocol) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"GET /bye HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        status, body = await _read_answer(reader)
        rest = await asyncio.wait_for(reader.read(), 5)
        writer.close()
    assert (status, body, rest) == (b"HTTP/1.1 200 OK", b"/bye", b"")


async def test_a_large_streamed_body_arrives_whole() -> None:
    async with LocalServer(_app, lifespan="off", http=CorkedHttpToolsProtocol) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"GET /big HTTP/1.1\r\nHost: t\r\n\r\n")
        head = await reader.readuntil(b"\r\n\r\n")
        body = bytearray()
        while True:  # chunked: size line, data, CRLF; a zero size ends it
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            if size == 0:
                await reader.readexactly(2)
                break
            body += await reader.readexactly(size)
            await reader.readexactly(2)
        writer.close()
    assert head.startswith(b"HTTP/1.1 200 OK")
    assert body == b"x" * BIG
