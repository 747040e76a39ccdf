"""Real slotbook processes for end-to-end tests.

Each command runs in its own process group with a clean `SLOTBOOK_*` environment and its
output read line by line on a thread. A server is ready when its JSON log says so (one
"Application startup complete." per worker, and "Uvicorn running on ..." once the socket
is bound) and `GET /readyz` answers 200 (`GET /sandbox/healthz` for the sandbox gateway).
Stopping sends SIGTERM to the whole group, then SIGKILL after a deadline.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import suppress
from pathlib import Path
from typing import Any

import httpx

from tests import databases as dbs

SLOTBOOK = Path(sys.executable).with_name("slotbook")
JWT_SECRET = "e2e-jwt-secret-for-end-to-end-tests-0123456789"
WEBHOOK_SECRET = "whsec_ZTJlLXNhbmRib3gtd2ViaG9vay1zZWNyZXQtMDEyMw=="
START_SECONDS = 30.0
STOP_SECONDS = 10.0
READY_EVENTS = ("Application startup complete.", "Uvicorn running on")
PORT_TAKEN = "address already in use"
PORT_ATTEMPTS = 3


class ProcessFailed(AssertionError):
    """A process did not get ready; the message ends with the tail of its output."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def service_env(database_url: str, extra: Mapping[str, str]) -> dict[str, str]:
    """The test process's environment without any SLOTBOOK_ setting, plus the e2e ones."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("SLOTBOOK_") and k != "PROMETHEUS_MULTIPROC_DIR"
    }
    env.update(
        SLOTBOOK_DATABASE_URL=database_url,
        SLOTBOOK_ENV="test",
        SLOTBOOK_JWT_SECRET=JWT_SECRET,
        SLOTBOOK_SANDBOX_WEBHOOK_SECRET=WEBHOOK_SECRET,
        SLOTBOOK_ARGON2_TIME_COST="1",
        SLOTBOOK_ARGON2_MEMORY_KIB="1024",
        SLOTBOOK_ACCESS_LOG="false",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def _event(line: str) -> str:
    """The `event` of a JSON log line, or the line itself (plain prints)."""
    try:
        parsed = json.loads(line)
    except ValueError:
        return line.strip()
    return str(parsed.get("event", "")) if isinstance(parsed, dict) else line.strip()


class Process:
    """One `slotbook` command in its own process group."""

    def __init__(self, args: list[str], env: Mapping[str, str], cwd: Path) -> None:
        self.args = args
        self.lines: list[str] = []
        self._fresh: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._proc = subprocess.Popen(
            [str(SLOTBOOK), *args],
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read, name=f"read {args[0]}", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            self.lines.append(line.rstrip("\n"))
            self._fresh.put(line)
        self._fresh.put(None)

    @property
    def running(self) -> bool:
        return self._proc.poll() is None

    def log_records(self) -> list[dict[str, Any]]:
        """The JSON log lines so far, parsed (plain prints left out)."""
        records = []
        for line in list(self.lines):
            with suppress(ValueError):
                parsed = json.loads(line)
                if isinstance(parsed, dict):
                    records.append(parsed)
        return records

    def tail(self, n: int = 40) -> str:
        return "\n".join(self.lines[-n:])

    def wait_for_events(self, wanted: Mapping[str, int], *, timeout: float) -> None:
        """Block until each event prefix was logged as often as wanted, within `timeout`."""
        missing = dict(wanted)
        deadline = time.monotonic() + timeout
        while any(n > 0 for n in missing.values()):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ProcessFailed(f"{self.args}: still waiting for {missing}\n{self.tail()}")
            try:
                line = self._fresh.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                code = self._proc.wait(timeout=STOP_SECONDS)
                raise ProcessFailed(f"{self.args}: exited with {code} early\n{self.tail()}")
            event = _event(line)
            for prefix in missing:
                if event.startswith(prefix):
                    missing[prefix] -= 1

    def stop(self, *, kill: bool = False) -> int:
        """SIGTERM to the group (SIGKILL at once with `kill`: a crash), SIGKILL after a
        deadline; the exit code of the command."""
        pgid = self._proc.pid  # start_new_session: the leader's pid is the group id
        with suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL if kill else signal.SIGTERM)
        try:
            code = self._proc.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
            code = self._proc.wait(timeout=STOP_SECONDS)
        with suppress(ProcessLookupError):  # any worker that outlived its parent
            os.killpg(pgid, signal.SIGKILL)
        self._reader.join(timeout=STOP_SECONDS)
        if self._proc.stdout is not None:
            self._proc.stdout.close()
        return code


class Server:
    def __init__(self, process: Process, port: int) -> None:
        self.process = process
        self.port = port
        self.url = f"http://127.0.0.1:{port}"


class Launcher:
    """Starts servers and sweepers for one test; `aclose` stops them all and then drops
    the PostgreSQL databases it created."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self._processes: list[Process] = []
        self._pg_urls: list[str] = []

    async def postgres(self) -> str:
        """A fresh, migrated PostgreSQL database (skips, or fails under CI, without one)."""
        dbs.require_postgres(await dbs.pg_reachable())
        url = await dbs.create_pg_database()
        self._pg_urls.append(url)
        await asyncio.to_thread(dbs.upgrade, url)
        return url

    async def sqlite(self) -> str:
        """A fresh, migrated SQLite file."""
        url = f"sqlite:///{self.workdir / 'slotbook.db'}"
        await asyncio.to_thread(dbs.upgrade, url)
        return url

    async def server(
        self,
        database_url: str,
        *,
        workers: int = 1,
        ready: bool = True,
        port: int | None = None,
        own_addresses: bool = True,
        **env: str,
    ) -> Server:
        """`slotbook serve` on a free port (or `port`, to restart one in its place), once
        its workers have started (and, with `ready`, once /readyz answers 200). Its public
        URL (webhooks, returns) is its own address: set by the test, or, with
        `own_addresses=False`, found by the server itself as `make run` leaves it to."""
        server = await asyncio.to_thread(
            self._start_server, database_url, workers, env, port, own_addresses
        )
        if ready:
            async with httpx.AsyncClient(base_url=server.url, timeout=START_SECONDS) as client:
                answer = await client.get("/readyz")
            assert answer.status_code == 200, f"{answer.text}\n{server.process.tail()}"
        return server

    def _start_server(
        self,
        database_url: str,
        workers: int,
        env: Mapping[str, str],
        port: int | None,
        own_addresses: bool,
    ) -> Server:
        def args(port: int) -> list[str]:
            return ["serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]

        def env_for(port: int) -> Mapping[str, str]:
            if not own_addresses:
                return env
            return {"SLOTBOOK_PUBLIC_URL": f"http://127.0.0.1:{port}", **env}

        return self._listening(args, database_url, env_for, workers=workers, port=port)

    async def sandbox(self, *, database_file: Path | None = None, **env: str) -> Server:
        """`slotbook sandbox-gateway` on a free port (its paths under `server.url`/sandbox),
        once it serves; its state in `database_file` (default: sandbox-gateway.db in the
        work directory, so a restarted gateway finds its pending deliveries)."""
        db_file = database_file or self.workdir / "sandbox-gateway.db"
        env = {"SLOTBOOK_SANDBOX_DATABASE_URL": f"sqlite:///{db_file}", **env}

        def args(port: int) -> list[str]:
            return ["sandbox-gateway", "--host", "127.0.0.1", "--port", str(port)]

        unused = f"sqlite:///{self.workdir / 'slotbook.db'}"  # the gateway keeps to its own file
        server = await asyncio.to_thread(self._listening, args, unused, lambda _: env, workers=1)
        async with httpx.AsyncClient(base_url=server.url, timeout=START_SECONDS) as client:
            answer = await client.get("/sandbox/healthz")
        assert answer.status_code == 200, f"{answer.text}\n{server.process.tail()}"
        return server

    def _listening(
        self,
        args_for: Callable[[int], list[str]],
        database_url: str,
        env_for: Callable[[int], Mapping[str, str]],
        *,
        workers: int,
        port: int | None = None,
    ) -> Server:
        """A command that serves on a free port (or `port`), once its workers started;
        another free port if the one chosen was taken in the meantime."""
        for attempt in range(1, PORT_ATTEMPTS + 1):
            chosen = port or free_port()
            process = self._start(args_for(chosen), database_url, env_for(chosen))
            try:
                process.wait_for_events(
                    {READY_EVENTS[0]: workers, READY_EVENTS[1]: 1}, timeout=START_SECONDS
                )
            except ProcessFailed:
                if port or attempt == PORT_ATTEMPTS or PORT_TAKEN not in process.tail().lower():
                    raise
                continue
            return Server(process, chosen)
        raise AssertionError("unreachable")

    async def sweeper(self, database_url: str, **env: str) -> Process:
        """`slotbook sweeper`, once it says it is running."""
        process = self._start(["sweeper"], database_url, env)
        await asyncio.to_thread(
            process.wait_for_events, {"sweeper running": 1}, timeout=START_SECONDS
        )
        return process

    def _start(self, args: list[str], database_url: str, env: Mapping[str, str]) -> Process:
        process = Process(args, service_env(database_url, env), self.workdir)
        self._processes.append(process)
        return process

    async def stop(self, process: Process, *, kill: bool = False) -> int:
        """Stop one process (SIGKILL at once with `kill`, as a crash would)."""
        self._processes.remove(process)
        return await asyncio.to_thread(lambda: process.stop(kill=kill))

    async def aclose(self) -> None:
        try:
            for process in reversed(self._processes):
                await asyncio.to_thread(process.stop)
            self._processes.clear()
        finally:
            for url in self._pg_urls:
                await dbs.drop_pg_database(url)
