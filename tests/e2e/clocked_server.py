"""A real HTTP server on the loopback whose clock the test moves: the app of `slotbook
serve`, served by uvicorn on a thread of the test process with a ManualClock (a server
process reads the system clock, which no test may move)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import uvicorn

from slotbook.adapters.clock import ManualClock
from slotbook.api.app import create_app
from slotbook.config import load_settings
from tests.e2e.servers import JWT_SECRET, START_SECONDS, STOP_SECONDS, WEBHOOK_SECRET, free_port


@dataclass
class ClockedServer:
    url: str
    clock: ManualClock


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
        lifespan="on",
        log_level="warning",
        access_log=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="clocked server", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + START_SECONDS
        while not server.started:
            assert thread.is_alive(), "the server stopped while starting"
            assert time.monotonic() < deadline, "the server did not start"
            await asyncio.sleep(0.05)  # polling for readiness, not waiting for time
        yield ClockedServer(url, clock)
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join, STOP_SECONDS)
