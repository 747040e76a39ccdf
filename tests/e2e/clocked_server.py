"""A real HTTP server on the loopback whose clock the test moves: the app of `slotbook
serve`, served by uvicorn on a thread of the test process with a ManualClock (a server
process reads the system clock, which no test may move). It is ready once uvicorn's
startup is through (as `tests/e2e/servers.py` waits for a process to say so), within
START_SECONDS."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import uvicorn

from slotbook.adapters.clock import ManualClock
from slotbook.api.app import create_app
from slotbook.config import load_settings
from slotbook.edge.http import CorkedHttpToolsProtocol
from tests.e2e.servers import JWT_SECRET, START_SECONDS, STOP_SECONDS, WEBHOOK_SECRET, free_port


@dataclass
class ClockedServer:
    url: str
    clock: ManualClock


class _SignallingServer(uvicorn.Server):
    """uvicorn's server, setting `settled` once its startup is through (`started` tells
    whether it serves) or its thread gives up."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.settled = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets=sockets)
        finally:
            self.settled.set()

    def run(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            super().run(sockets=sockets)
        finally:
            self.settled.set()


@asynccontextmanager
async def clocked_server(database_url: str, clock: ManualClock) -> AsyncIterator[ClockedServer]:
    """The whole app (its sandbox gateway mounted, on the same clock) until the block ends."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = load_settings(
        database_url=database_url,
        env="test",
        jwt_secret=JWT_SECRET,
        sandbox_webhook_secret=WEBHOOK_SECRET,
        argon2_time_cost=1,
        argon2_memory_kib=1024,
        public_url=url,
        sandbox_gateway_url=f"{url}/sandbox",
        access_log=False,
    )
    config = uvicorn.Config(
        create_app(settings, clock=clock),
        host="127.0.0.1",
        port=port,
        loop="asyncio",
        http=CorkedHttpToolsProtocol,  # as `slotbook serve` runs it
        lifespan="on",
        log_level="warning",
        access_log=False,
    )
    server = _SignallingServer(config)
    thread = threading.Thread(target=server.run, name="clocked server", daemon=True)
    thread.start()
    try:
        settled = await asyncio.to_thread(server.settled.wait, START_SECONDS)
        assert settled, "the server did not start"
        assert server.started, "the server stopped while starting"
        yield ClockedServer(url, clock)
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join, STOP_SECONDS)
