"""Holds by worker count and client count: where a second worker's holds go on this box.

`make bench` compares one worker with two at 32 clients. This measures both servers (slotbook
and the reference) at each (workers, clients) pair in alternating rounds, with CPU per hold
split as in `make bench` and slotbook's mean batch, so that two workers at 32 clients can be
set beside one worker at 16, the load each of the two workers carries:

    .venv/bin/python bench/scaling.py [--cases 1x16,1x32,2x32,1x64,2x64] [--rounds 3]

It seeds the same databases as `make bench` (and drops them afterwards) and needs the same
PostgreSQL and wrk.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import tempfile
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path

import uvloop

import loads
import run
import seed
import servers

DRAIN_S = 1.5


@dataclass
class Round:
    holds_per_s: float
    p99_ms: float
    server_ms: float  # CPU per hold
    pg_ms: float
    wrk_ms: float
    batch_mean: float | None  # slotbook only


@dataclass
class Case:
    workers: int
    clients: int
    slotbook: list[Round] = field(default_factory=list)
    reference: list[Round] = field(default_factory=list)


async def measure(
    server: servers.Server, script: Path, clients: int, seconds: int, *, batches: bool
) -> Round:
    """One wrk round at `clients` connections, with CPU per hold and (slotbook) batches."""
    own, pg = sorted({server.proc.pid, *server.worker_pids}), servers.postgres_pids()
    cpu0, pg0, wrk0 = (
        servers.cpu_seconds(own),
        servers.cpu_seconds(pg),
        servers.children_cpu_seconds(),
    )
    before = servers.batch_sizes(server)
    result = await loads.wrk(script, server.port, connections=clients, seconds=seconds)
    cpu, pg_cpu = servers.cpu_seconds(own) - cpu0, servers.cpu_seconds(pg) - pg0
    wrk_cpu = servers.children_cpu_seconds() - wrk0
    holds = max(1, result.holds)
    mean = None
    if batches:
        await asyncio.sleep(run.BATCH_LOG_S)
        placed = servers.batch_sizes(server)
        placed.subtract(before)
        n = sum((+placed).values())
        mean = sum(size * k for size, k in (+placed).items()) / n if n else None
    return Round(
        holds / result.seconds,
        result.p99_ms,
        cpu / holds * 1000,
        pg_cpu / holds * 1000,
        wrk_cpu / holds * 1000,
        mean,
    )


def _median(rounds: list[Round], figure: str, fmt: str) -> str:
    values = [v for r in rounds if (v := getattr(r, figure)) is not None]
    return format(statistics.median(values), fmt) if values else "-"


def render(cases: list[Case]) -> str:
    """The medians of each case's rounds, as a Markdown table."""
    lines = [
        "| workers x clients | slotbook holds/s | p99 ms | CPU ms/hold: server / PostgreSQL"
        " / wrk | mean batch | reference holds/s | reference CPU ms/hold: server / PostgreSQL |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in cases:
        sb, ref = c.slotbook, c.reference
        cpu = " / ".join(_median(sb, f, ".3f") for f in ("server_ms", "pg_ms", "wrk_ms"))
        ref_cpu = " / ".join(_median(ref, f, ".3f") for f in ("server_ms", "pg_ms"))
        lines.append(
            f"| {c.workers} x {c.clients} | {_median(sb, 'holds_per_s', ',.0f')}"
            f" | {_median(sb, 'p99_ms', '.1f')} | {cpu} | {_median(sb, 'batch_mean', '.1f')}"
            f" | {_median(ref, 'holds_per_s', ',.0f')} | {ref_cpu} |"
        )
    return "\n".join(lines)


async def main(args: argparse.Namespace) -> None:
    loads.ensure_wrk()
    cases = [Case(*map(int, c.split("x"))) for c in args.cases.split(",")]
    workdir = Path(tempfile.mkdtemp(prefix="slotbook-scaling-"))
    try:
        await seed.recreate(run.DB_REF)
        catalog = await seed.seed(
            run.DB,
            providers=run.PROVIDERS,
            slots=run.SLOTS,
            customers=run.CUSTOMERS,
            history=run.HISTORY,
            active=run.CUSTOMERS - run.HOLDERS,
            jwt_secret=run.JWT_SECRET,
        )
        options = argparse.Namespace(bursts=0, workers=[], seconds=args.seconds)
        bench = run.Bench(options, catalog, workdir)
        async with AsyncExitStack() as stack:
            started: dict[str, servers.Server] = {}
            for w in sorted({c.workers for c in cases}):
                sb = servers.stop_on_exit(stack, bench._slotbook(w))
                ref = servers.stop_on_exit(stack, bench._reference(w, run.DB_REF, run.SLOTS))
                await servers.wait_ready(sb, path="/readyz", ok={200}, deadline_s=60)
                await servers.wait_ready(ref, path="/healthz", ok={404}, deadline_s=60)
                started |= {f"sb{w}": sb, f"ref{w}": ref}
                await loads.wrk(bench.any_slot, sb.port, connections=32, seconds=2)
                await loads.wrk(bench.ref_script, ref.port, connections=32, seconds=2)
            for i in range(args.rounds):
                for case in cases if i % 2 == 0 else cases[::-1]:
                    for who in ("sb", "ref") if i % 2 == 0 else ("ref", "sb"):
                        await asyncio.sleep(DRAIN_S)
                        server = started[f"{who}{case.workers}"]
                        if who == "ref":
                            await seed.reset_reference(run.DB_REF)
                        script = bench.any_slot if who == "sb" else bench.ref_script
                        r = await measure(
                            server, script, case.clients, args.seconds, batches=who == "sb"
                        )
                        (case.slotbook if who == "sb" else case.reference).append(r)
                        print(f"round {i} {who} {case.workers}x{case.clients}: {r}", flush=True)
    finally:
        for database in (run.DB, run.DB_REF):
            await seed.drop(database)
        shutil.rmtree(workdir, ignore_errors=True)
    print(render(cases))


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", default="1x16,1x32,2x32,1x64,2x64", help="workers x clients")
    p.add_argument("--rounds", type=int, default=3, help="alternating rounds per case")
    p.add_argument("--seconds", type=int, default=4, help="length of one round")
    return p.parse_args()


if __name__ == "__main__":
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main(parse_args()))
