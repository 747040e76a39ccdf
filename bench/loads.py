"""Load generators: wrk with a generated Lua script and a hot-slot burst client.

Every request sent to slotbook and to the reference has the same shape (a random
customer's bearer token and a JSON body naming a random slot), so the load generator
spends the same work on both; the reference ignores both and picks its own slot.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"

WRK_LUA = """
local tokens_path, slots_path, path = "%(tokens)s", "%(slots)s", "%(path)s"
local threads = {}

function setup(thread)
  thread:set("thread_no", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  counts = {}
  tokens = {}
  for line in io.lines(tokens_path) do tokens[#tokens + 1] = line end
  slots = {}
  for line in io.lines(slots_path) do slots[#slots + 1] = line end
  math.randomseed(os.time() + 7919 * thread_no)
end

-- "random": any customer, so two requests in flight may carry the same customer;
-- "distinct": each wrk thread (run with one connection per thread) walks its own share
-- of the customers in turn, so no customer is ever in two requests at once.
local customer_mode, threads_n, sent = "%(customers)s", %(threads)d, 0

local function customer()
  if customer_mode == "random" then return tokens[math.random(#tokens)] end
  local share = math.floor(#tokens / threads_n)
  sent = sent + 1
  return tokens[(thread_no - 1) * share + sent %% share + 1]
end

function request()
  local headers = {
    ["Authorization"] = "Bearer " .. customer(),
    ["Content-Type"] = "application/json",
  }
  local body = '{"slot_id":"' .. slots[math.random(#slots)] .. '"}'
  return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, requests)
  local mix = {}
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("counts")) do mix[k] = (mix[k] or 0) + v end
  end
  local parts = {}
  for k, v in pairs(mix) do parts[#parts + 1] = string.format('"%%d":%%d', k, v) end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%%d,"duration_us":%%d,"socket_errors":%%d,"p50_us":%%d,' ..
    '"p99_us":%%d,"max_us":%%d,"mix":{%%s}}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max, table.concat(parts, ",")))
end
"""


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    socket_errors: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    mix: dict[int, int]

    @property
    def holds(self) -> int:
        return self.mix.get(201, 0) + self.mix.get(200, 0)


def write_script(
    workdir: Path,
    name: str,
    *,
    path: str,
    tokens: list[str],
    slots: list[str],
    customers: str = "random",
    threads: int = 2,
) -> Path:
    """A wrk script sending POST `path` with tokens and random slots from the given lists;
    `customers` is "random" or "distinct" (run with as many wrk threads as connections:
    no customer is then in two requests at once)."""
    tokens_file = workdir / f"{name}.tokens"
    slots_file = workdir / f"{name}.slots"
    tokens_file.write_text("\n".join(tokens) + "\n")
    slots_file.write_text("\n".join(slots) + "\n")
    script = workdir / f"{name}.lua"
    fields = {"tokens": tokens_file, "slots": slots_file, "path": path}
    fields |= {"customers": customers, "threads": threads}
    script.write_text(WRK_LUA % fields)
    return script


async def run_tool(argv: list[str], *, timeout: float, figure: str) -> re.Match[str]:
    """Run a load tool to completion (bounded in time); the match of `figure` in its output."""
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    text = out.decode(errors="replace")
    found = re.search(figure, text, re.MULTILINE)
    if proc.returncode != 0 or found is None:
        raise RuntimeError(f"{argv[0]} failed ({proc.returncode}):\n{text}")
    return found


async def wrk(
    script: Path, port: int, *, connections: int, seconds: int, threads: int = 2
) -> LoadResult:
    """One wrk run; the figures its done() callback reports."""
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s"]
    argv += ["-s", str(script), f"http://{HOST}:{port}/"]
    found = await run_tool(argv, timeout=seconds + 30, figure=r"^BENCH (\{.*\})$")
    data = json.loads(found.group(1))
    return LoadResult(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        socket_errors=data["socket_errors"],
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
        mix={int(k): v for k, v in data["mix"].items()},
    )


def raw_post(path: str, body: bytes, headers: dict[str, str]) -> bytes:
    """One POST as bytes on the wire (keep-alive), ready to send as often as needed."""
    lines = [f"POST {path} HTTP/1.1", f"Host: {HOST}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def post_request(path: str, token: str, slot_id: str) -> bytes:
    body = json.dumps({"slot_id": slot_id}).encode()
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    return raw_post(path, body, auth)


def login_request(email: str, password: str) -> bytes:
    body = json.dumps({"email": email, "password": password}).encode()
    head = (
        f"POST /v1/auth/login HTTP/1.1\r\nHost: {HOST}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> int:
    """Send one request on a keep-alive connection and read its whole response."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return int(head[9:12])


@dataclass(frozen=True)
class BurstResult:
    statuses: list[int]
    latencies_ms: list[float]
    makespan_ms: float  # from the barrier to the last answer


async def burst(port: int, requests: list[bytes], *, timeout_s: float = 30.0) -> BurstResult:
    """Open one connection per request, warm each with a GET, then send all at one moment."""
    conns = await asyncio.wait_for(
        asyncio.gather(*(asyncio.open_connection(HOST, port) for _ in requests)), timeout_s
    )
    warm = f"GET /healthz HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode()
    go = asyncio.Event()

    async def one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, req: bytes):
        await _exchange(reader, writer, warm)
        await go.wait()
        started = time.perf_counter()
        status = await _exchange(reader, writer, req)
        return status, (time.perf_counter() - started) * 1000, time.perf_counter()

    try:
        tasks = [
            asyncio.ensure_future(one(r, w, q)) for (r, w), q in zip(conns, requests, strict=True)
        ]
        await asyncio.sleep(0.5)  # let every warm-up exchange finish
        begun = time.perf_counter()
        go.set()
        results = await asyncio.wait_for(asyncio.gather(*tasks), timeout_s)
    finally:
        for _, w in conns:
            w.close()
    return BurstResult(
        statuses=[r[0] for r in results],
        latencies_ms=[r[1] for r in results],
        makespan_ms=(max(r[2] for r in results) - begun) * 1000,
    )


async def post_all(
    port: int, requests: list[bytes], *, concurrency: int = 16
) -> tuple[list[int], list[float]]:
    """Send the requests over `concurrency` keep-alive connections (a lean client, so
    the load generator takes little of the cores it shares); each one's status and
    latency in ms, in the order given."""
    queue = list(enumerate(requests))
    statuses = [0] * len(requests)
    latencies = [0.0] * len(requests)

    async def client() -> None:
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            while queue:
                i, req = queue.pop()
                started = time.perf_counter()
                statuses[i] = await _exchange(reader, writer, req)
                latencies[i] = (time.perf_counter() - started) * 1000
        finally:
            writer.close()

    await asyncio.wait_for(asyncio.gather(*(client() for _ in range(concurrency))), 60)
    return statuses, latencies


async def holds_until(
    port: int, lanes: list[list[bytes]], stop: asyncio.Event
) -> tuple[list[int], list[float]]:
    """One keep-alive connection per lane, each sending its requests one after another
    (round and round) until `stop`; every answer's status and latency in ms."""
    statuses: list[int] = []
    latencies: list[float] = []

    async def lane(requests: list[bytes]) -> None:
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            turn = 0
            while not stop.is_set():
                started = time.perf_counter()
                statuses.append(await _exchange(reader, writer, requests[turn % len(requests)]))
                latencies.append((time.perf_counter() - started) * 1000)
                turn += 1
        finally:
            writer.close()

    await asyncio.wait_for(asyncio.gather(*(lane(r) for r in lanes)), 300)
    return statuses, latencies


def percentile(values: list[float], q: float) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def ensure_wrk() -> None:
    """wrk on PATH, installed with apt-get when running as root, or exit with a message."""
    if shutil.which("wrk"):
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("installing wrk with apt-get ...", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "wrk"]
        if subprocess.run(install, check=False, timeout=300, env=env).returncode != 0:
            subprocess.run(["apt-get", "update"], check=False, timeout=300, env=env)
            subprocess.run(install, check=False, timeout=300, env=env)
    if not shutil.which("wrk"):
        sys.exit("bench needs wrk on PATH (apt-get install wrk, or build it from source)")
