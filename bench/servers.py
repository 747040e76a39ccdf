"""Server processes under test: start, wait until ready, read their memory and CPU, stop.

Each server runs in its own process group so that stopping it also stops its workers.
Memory and CPU figures come from /proc, so nothing beyond the standard library is needed.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from contextlib import AsyncExitStack, suppress
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path
    workers: int
    worker_pids: list[int] = field(default_factory=list)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def start(
    name: str, argv: list[str], *, env: dict[str, str], port: int, workers: int, workdir: Path
) -> Server:
    log_path = workdir / f"{name}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            argv,
            env=env,
            cwd=workdir,  # no stray .env file from the repository is picked up
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            process_group=0,  # its own process group, stopped as a whole
        )
    return Server(name, port, proc, log_path, workers)


async def _http_status(port: int, path: str) -> int | None:
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), 1.0)
    except (OSError, TimeoutError):
        return None
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode())
        line = await asyncio.wait_for(reader.readline(), 2.0)
        return int(line.split()[1]) if line.startswith(b"HTTP/") else None
    except (OSError, TimeoutError, ValueError, IndexError):
        return None
    finally:
        writer.close()


async def wait_ready(server: Server, *, path: str, ok: set[int], deadline_s: float) -> None:
    """Poll until `path` answers one of `ok` and every worker process exists, or fail."""
    deadline = time.monotonic() + deadline_s
    for _ in range(int(deadline_s * 10) + 1):
        if server.proc.poll() is not None:
            raise RuntimeError(f"{server.name} exited early:\n{server.log_tail()}")
        if await _http_status(server.port, path) in ok:
            pids = worker_pids(server.proc.pid, server.workers)
            if len(pids) == server.workers:
                server.worker_pids = pids
                # a few more answers so that every worker has started its app
                for _ in range(4 * server.workers):
                    await _http_status(server.port, path)
                return
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{server.name} not ready after {deadline_s:.0f}s:\n{server.log_tail()}")


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            kids += [int(p) for p in task.read_text().split()]
        except OSError:
            continue
    return kids


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def worker_pids(master: int, workers: int) -> list[int]:
    """The processes that serve requests: the master itself with one worker, else the
    spawned children (not multiprocessing's helper processes)."""
    if workers == 1:
        return [master]
    kids = [k for k in _children(master) if "spawn_main" in _cmdline(k)]
    return [k for k in kids if "resource_tracker" not in _cmdline(k)]


def peak_rss_mb(pid: int) -> float | None:
    """VmHWM: the largest resident set the process has had, in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def cpu_seconds(pids: list[int]) -> float:
    """User plus system CPU time consumed so far by the given processes."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / CLK_TCK


def children_cpu_seconds() -> float:
    """CPU time of this process's children that have finished (here: wrk runs)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def machine_busy_seconds() -> float:
    """CPU time spent by the whole machine (all cores, all processes) since boot."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def postgres_pids() -> list[int]:
    """Every PostgreSQL process on the machine (postmaster, backends, background workers)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/comm"):
        try:
            if stat.read_text().strip() == "postgres":
                pids.append(int(stat.parent.name))
        except OSError:
            continue
    return pids


def stop(server: Server, *, timeout_s: float = 10.0) -> None:
    """SIGTERM to the process group, then SIGKILL if it has not gone within the timeout."""
    if server.proc.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(server.proc.pid, signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            server.proc.wait(timeout=timeout_s)
    with suppress(ProcessLookupError):
        os.killpg(server.proc.pid, signal.SIGKILL)  # stragglers of the group, if any
    with suppress(subprocess.TimeoutExpired):
        server.proc.wait(timeout=timeout_s)


def stop_on_exit(stack: AsyncExitStack, server: Server) -> Server:
    """Stop `server` when `stack` closes; after an error, show the end of its log first."""

    def on_exit(exc_type: object, _exc: object, _tb: object) -> bool:
        if exc_type is not None:
            print(f"--- end of the {server.name} log ---\n{server.log_tail()}", file=sys.stderr)
        stop(server)
        return False

    stack.push(on_exit)
    return server


def batch_sizes(server: Server) -> Counter[int]:
    """The group commit's batches so far, by size, over the server's workers: the last
    `hold_batches` line each worker logged (a worker logs within a second of a change)."""
    last: dict[int, dict[str, int]] = {}
    try:
        lines = server.log_path.read_text(errors="replace").splitlines()
    except OSError:
        return Counter()
    for line in lines:
        if '"hold_batches"' not in line:
            continue
        with suppress(ValueError):
            entry = json.loads(line)
            last[int(entry["pid"])] = entry["sizes"]
    return sum((Counter({int(k): v for k, v in s.items()}) for s in last.values()), Counter())
