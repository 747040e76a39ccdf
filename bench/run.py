"""`make bench`: the hold path of slotbook against the bare reference server, same run.

Seeds a realistic PostgreSQL database, starts slotbook and the reference server with the
same number of workers, loads both in alternation (wrk for throughput and latency, an
asyncio client for the 500-at-once hot-slot burst), reads their peak memory, runs pgbench
for the database's own floor, and prints the side-by-side table (also written as Markdown
to bench/out/latest.md). Only 127.0.0.1 is contacted; every wait has a deadline.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import shutil
import sys
import tempfile
from collections import Counter
from contextlib import AsyncExitStack
from pathlib import Path
from typing import TypeVar

import uvloop

import floor
import loads
import payments
import report
import seed
import servers

REPO = Path(__file__).resolve().parent.parent
REFERENCE = REPO.parent / "shared" / "bench" / "reference"
VENV_BIN = REPO / ".venv" / "bin"
JWT_SECRET = "bench-only-jwt-secret-0123456789abcdef-0123"
WEBHOOK_SECRET = "whsec_YmVuY2gtb25seS13ZWJob29rLXNlY3JldC0wMTIzNDU2"
WEBHOOKS = 300  # signed successes posted straight to the service
WEBHOOKS_ONE_AT_A_TIME = 100  # and these before them, one after another
WEBHOOK_CONCURRENCY = 8
# and these, unmeasured, at that concurrency first: the connections a burst needs are
# opened (each costs PostgreSQL a new backend, tens of ms) before the measured one
WEBHOOKS_WARM_UP = 40
FLOWS = 32  # payments completed at the gateway at one moment
DB, DB_REF, DB_REF_HOT = "slotbook_bench", "slotbook_bench_ref", "slotbook_bench_refhot"
SLOTS, PROVIDERS, CUSTOMERS, HISTORY = 100_000, 200, 2_000, 200_000
HOLDERS = 500  # customers kept apart to pre-hold the slots of the 409 scenario
HOT_CLIENTS = 500
LOGIN_BURST_HOLDERS = 4
CONNECTIONS = 32
# pause before each measured round: requests wrk left in flight finish first, so that
# their customers are not still busy when the next round begins
DRAIN_S = 1.5
BATCH_LOG_S = 1.2  # slotbook logs its batch sizes within a second of a change
PARTS = ("holds", "hot", "payments", "logins")
T = TypeVar("T")


class Bench:
    """One benchmark run: the seeded catalog, the scratch directory and the results."""

    def __init__(self, args: argparse.Namespace, catalog: seed.Catalog, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.gateway_port = 0  # the sandbox gateway's, once it runs
        self.general = catalog.tokens[: CUSTOMERS - HOLDERS]
        self.holders = catalog.tokens[CUSTOMERS - HOLDERS :]
        n_hot = args.bursts * len(args.workers)
        # the 409 scenario's slots, 8 per holder of the login burst, one per payment
        per_run = HOLDERS + 8 * LOGIN_BURST_HOLDERS + WEBHOOKS_ONE_AT_A_TIME + WEBHOOKS + FLOWS
        per_run += WEBHOOKS_WARM_UP
        n_targets = per_run * len(args.workers)
        self.hot_slots = catalog.slot_ids[:n_hot]
        self.target_slots = catalog.slot_ids[n_hot : n_hot + n_targets]
        free = catalog.slot_ids[n_hot + n_targets :]
        self.any_slot = loads.write_script(
            workdir, "uncontended", path="/v1/holds", tokens=self.general, slots=free
        )
        self.distinct_script, self.ref_distinct = (
            loads.write_script(
                workdir,
                f"distinct{i}",
                path=path,
                tokens=self.general,
                slots=free,
                customers="distinct",
                threads=CONNECTIONS,
            )
            for i, path in enumerate(("/v1/holds", "/hold"))
        )
        self.ref_script = loads.write_script(
            workdir, "reference", path="/hold", tokens=self.general, slots=free
        )

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SLOTBOOK_")}
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        return env | {
            "SLOTBOOK_DATABASE_URL": seed.dsn(DB),
            "SLOTBOOK_JWT_SECRET": JWT_SECRET,
            "SLOTBOOK_SANDBOX_WEBHOOK_SECRET": WEBHOOK_SECRET,
        }

    def sandbox(self) -> servers.Server:
        """The sandbox gateway as its own process (the servers measured serve none)."""
        port = servers.free_port()
        env = self._env() | {
            "SLOTBOOK_SANDBOX_DATABASE_URL": f"sqlite:///{self.workdir / 'sandbox.db'}"
        }
        argv = [str(VENV_BIN / "slotbook"), "sandbox-gateway", "--port", str(port)]
        return servers.start("sandbox", argv, env=env, port=port, workers=1, workdir=self.workdir)

    def _slotbook(self, workers: int) -> servers.Server:
        env = self._env() | {
            "SLOTBOOK_SANDBOX_MOUNT": "false",
            "SLOTBOOK_SANDBOX_GATEWAY_URL": f"http://127.0.0.1:{self.gateway_port}/sandbox",
        }
        port = servers.free_port()
        argv = [str(VENV_BIN / "slotbook"), "serve", "--port", str(port)]
        argv += ["--workers", str(workers)]
        return servers.start(
            f"slotbook-w{workers}", argv, env=env, port=port, workers=workers, workdir=self.workdir
        )

    def _reference(self, workers: int, database: str, slots: int) -> servers.Server:
        env = {**os.environ, "REF_DSN": seed.dsn(database)}
        port = servers.free_port()
        argv = [str(VENV_BIN / "python"), str(REFERENCE / "server.py"), "--port", str(port)]
        argv += ["--slots", str(slots), "--workers", str(workers)]
        name = f"reference-{database}-w{workers}"
        return servers.start(name, argv, env=env, port=port, workers=workers, workdir=self.workdir)

    async def _measure(
        self, server: servers.Server, side: report.Side, script: Path, seconds: int
    ) -> None:
        """One measured wrk round, with the CPU time the server, PostgreSQL, wrk and
        everything else on the machine spent meanwhile."""
        own = sorted({server.proc.pid, *server.worker_pids})
        pg = servers.postgres_pids()
        cpu0, pg0, wrk0 = (
            servers.cpu_seconds(own),
            servers.cpu_seconds(pg),
            servers.children_cpu_seconds(),
        )
        busy0 = servers.machine_busy_seconds()
        result = await loads.wrk(script, server.port, connections=CONNECTIONS, seconds=seconds)
        side.uncontended.append(result)
        cpu, pg_cpu = servers.cpu_seconds(own) - cpu0, servers.cpu_seconds(pg) - pg0
        wrk_cpu = servers.children_cpu_seconds() - wrk0
        side.server_cpu_s += cpu
        side.pg_cpu_s += pg_cpu
        side.wrk_cpu_s += wrk_cpu
        side.other_cpu_s += servers.machine_busy_seconds() - busy0 - cpu - pg_cpu - wrk_cpu

    async def _batches_since(
        self, run: report.Run, sb: servers.Server, scenario: str, before: Counter[int]
    ) -> None:
        """Add the batches slotbook placed since `before` to the scenario's."""
        await asyncio.sleep(BATCH_LOG_S)
        placed = servers.batch_sizes(sb)
        placed.subtract(before)
        total = run.slotbook.batches.setdefault(scenario, Counter())
        total.update(+placed)

    async def uncontended(self, run: report.Run, sb: servers.Server, ref: servers.Server) -> None:
        print("  uncontended holds ...", flush=True)
        await seed.reset_reference(DB_REF)
        await loads.wrk(self.ref_script, ref.port, connections=CONNECTIONS, seconds=2)
        await loads.wrk(self.any_slot, sb.port, connections=CONNECTIONS, seconds=2)
        for who in ("ref", "sb", "sb", "ref"):
            await asyncio.sleep(DRAIN_S)
            if who == "ref":
                await seed.reset_reference(DB_REF)
                await self._measure(ref, run.reference, self.ref_script, self.args.seconds)
            else:
                before = servers.batch_sizes(sb)
                await self._measure(sb, run.slotbook, self.any_slot, self.args.seconds)
                await self._batches_since(run, sb, "uncontended", before)

    async def distinct(self, run: report.Run, sb: servers.Server, ref: servers.Server) -> None:
        """As `uncontended`, but no customer is ever in two requests at once."""
        print("  holds, no customer twice in flight ...", flush=True)
        for who in ("sb", "ref", "ref", "sb"):
            await asyncio.sleep(DRAIN_S)
            if who == "ref":
                await seed.reset_reference(DB_REF)
            side, server = (run.reference, ref) if who == "ref" else (run.slotbook, sb)
            script = self.ref_distinct if who == "ref" else self.distinct_script
            before = servers.batch_sizes(sb)
            result = await loads.wrk(
                script,
                server.port,
                connections=CONNECTIONS,
                seconds=self.args.seconds,
                threads=CONNECTIONS,
            )
            side.distinct.append(result)
            if who == "sb":
                await self._batches_since(run, sb, "distinct", before)

    async def refused(self, run: report.Run, sb: servers.Server, ref: servers.Server) -> None:
        print("  409 path ...", flush=True)
        targets = [self.target_slots.pop() for _ in range(HOLDERS)]
        reqs = [
            loads.post_request("/v1/holds", t, s)
            for t, s in zip(self.holders, targets, strict=True)
        ]
        statuses, _ = await loads.post_all(sb.port, reqs)
        if set(statuses) != {201}:
            raise RuntimeError(f"pre-holding the 409 slots failed: {sorted(set(statuses))}")
        script = loads.write_script(
            self.workdir, "refused", path="/v1/holds", tokens=self.general, slots=targets
        )
        await seed.reset_reference(DB_REF, all_held=True)
        await loads.wrk(script, sb.port, connections=CONNECTIONS, seconds=1)
        await loads.wrk(self.ref_script, ref.port, connections=CONNECTIONS, seconds=1)
        seconds = max(1, self.args.seconds * 4 // 5)
        for who in ("sb", "ref", "ref", "sb"):
            await asyncio.sleep(DRAIN_S)
            if who == "ref":
                result = await loads.wrk(
                    self.ref_script, ref.port, connections=CONNECTIONS, seconds=seconds
                )
                run.reference.refused.append(result)
            else:
                before = servers.batch_sizes(sb)
                result = await loads.wrk(script, sb.port, connections=CONNECTIONS, seconds=seconds)
                run.slotbook.refused.append(result)
                await self._batches_since(run, sb, "refused", before)
        await seed.reset_reference(DB_REF)

    async def hot_slot(self, run: report.Run, sb: servers.Server, ref_hot: servers.Server) -> None:
        print("  hot slot bursts ...", flush=True)
        for _ in range(self.args.bursts):
            clients = random.sample(self.general, HOT_CLIENTS)
            await seed.reset_reference(DB_REF_HOT)
            slot = self.hot_slots.pop()
            ref_reqs = [loads.post_request("/hold", t, slot) for t in clients]
            run.reference.bursts.append(await loads.burst(ref_hot.port, ref_reqs))
            sb_reqs = [loads.post_request("/v1/holds", t, slot) for t in clients]
            before = servers.batch_sizes(sb)
            run.slotbook.bursts.append(await loads.burst(sb.port, sb_reqs))
            await self._batches_since(run, sb, "hot", before)

    async def login_burst(self, run: report.Run, sb: servers.Server) -> None:
        """150 logins at one moment (the default password-hashing cost), while a few
        customers keep placing holds one after another: the holds' latency meanwhile."""
        print(f"  {report.LOGINS} logins at once, holds meanwhile ...", flush=True)
        logins = [
            loads.login_request(f"customer{i}@bench.example", seed.PASSWORD)
            for i in random.sample(range(CUSTOMERS - HOLDERS), report.LOGINS)
        ]
        lanes = [
            [loads.post_request("/v1/holds", token, self.target_slots.pop()) for _ in range(8)]
            for token in random.sample(self.general, LOGIN_BURST_HOLDERS)
        ]
        stop = asyncio.Event()
        holding = asyncio.create_task(loads.holds_until(sb.port, lanes, stop))
        try:
            run.slotbook.login_burst = await loads.burst(sb.port, logins, timeout_s=180)
        finally:
            stop.set()
        statuses, latencies = await holding
        run.slotbook.holds_during_logins = latencies
        run.slotbook.holds_during_logins_mix = dict(Counter(statuses))

    async def payments(self, run: report.Run, sb: servers.Server) -> None:
        """Webhook handling, and gateway success to booking with 32 flows at once."""
        print("  payments: webhooks, success to booking ...", flush=True)
        figures = run.slotbook.payments
        counts = (WEBHOOKS_ONE_AT_A_TIME, WEBHOOKS_WARM_UP, WEBHOOKS, FLOWS)
        people = random.sample(self.general, sum(counts))
        slots = [self.target_slots.pop() for _ in people]
        opened = await payments.open_payments(sb.port, people, slots)
        one_by_one, warm_up, by_webhook, flows = _split(opened, counts)
        figures.webhook_one_ms, figures.webhook_one_statuses = await payments.webhooks(
            sb.port, [p for _, p in one_by_one], WEBHOOK_SECRET, concurrency=1
        )
        figures.webhook_concurrency = WEBHOOK_CONCURRENCY
        await payments.webhooks(
            sb.port, [p for _, p in warm_up], WEBHOOK_SECRET, concurrency=WEBHOOK_CONCURRENCY
        )
        own, pg = sorted({sb.proc.pid, *sb.worker_pids}), servers.postgres_pids()
        cpu0, pg0 = servers.cpu_seconds(own), servers.cpu_seconds(pg)
        figures.webhook_ms, figures.webhook_statuses = await payments.webhooks(
            sb.port, [p for _, p in by_webhook], WEBHOOK_SECRET, concurrency=WEBHOOK_CONCURRENCY
        )
        figures.webhook_server_cpu_ms = (servers.cpu_seconds(own) - cpu0) * 1000 / WEBHOOKS
        figures.webhook_pg_cpu_ms = (servers.cpu_seconds(pg) - pg0) * 1000 / WEBHOOKS
        figures.flows = len(flows)
        (
            figures.success_to_booking_ms,
            figures.call_to_booking_ms,
            figures.flows_confirmed,
        ) = await payments.success_to_booking(sb.port, self.gateway_port, flows)

    async def at_workers(self, workers: int) -> report.Run:
        print(f"workers = {workers}", flush=True)
        run = report.Run(workers)
        await seed.vacuum(DB)  # the reference rebuilds its tables whenever it starts
        deadlocks, ref_deadlocks = await seed.deadlocks(DB), await seed.deadlocks(DB_REF)
        async with AsyncExitStack() as stack:
            sb = servers.stop_on_exit(stack, self._slotbook(workers))
            ref = servers.stop_on_exit(stack, self._reference(workers, DB_REF, SLOTS))
            await servers.wait_ready(ref, path="/healthz", ok={404}, deadline_s=60)
            await servers.wait_ready(sb, path="/readyz", ok={200}, deadline_s=60)
            parts = self.args.only
            if "holds" in parts:
                await self.uncontended(run, sb, ref)
                await self.distinct(run, sb, ref)
                await self.refused(run, sb, ref)
            run.reference.rss_mb = _rss(ref)
            servers.stop(ref)
            if "hot" in parts:
                ref_hot = servers.stop_on_exit(stack, self._reference(workers, DB_REF_HOT, 1))
                await servers.wait_ready(ref_hot, path="/healthz", ok={404}, deadline_s=60)
                await self.hot_slot(run, sb, ref_hot)
            if "payments" in parts:
                await self.payments(run, sb)
            run.slotbook.rss_mb = _rss(sb)  # the hold and payment paths' peak
            if "logins" in parts:
                await self.login_burst(run, sb)
                run.slotbook.rss_after_logins_mb = _rss(sb)  # with the hashes' memory
            servers.stop(sb)  # its connections close and report their statistics
        run.slotbook.deadlocks = await seed.deadlocks(DB) - deadlocks
        run.reference.deadlocks = await seed.deadlocks(DB_REF) - ref_deadlocks
        return run


def _split(items: list[T], counts: tuple[int, ...]) -> list[list[T]]:
    """`items` cut into consecutive parts of these lengths."""
    parts, start = [], 0
    for n in counts:
        parts.append(items[start : start + n])
        start += n
    return parts


def _rss(server: servers.Server) -> list[float]:
    return [mb for pid in server.worker_pids if (mb := servers.peak_rss_mb(pid)) is not None]


async def main(args: argparse.Namespace) -> None:
    loads.ensure_wrk()
    command = " ".join([".venv/bin/python bench/run.py", *sys.argv[1:]])
    info = report.machine(await seed.server_version())
    info["code"] = report.code_version(REPO)
    workdir = Path(tempfile.mkdtemp(prefix="slotbook-bench-"))
    try:
        print(f"seeding {SLOTS:,} slots, {HISTORY:,} past holds ...", flush=True)
        for database in (DB_REF, DB_REF_HOT):
            await seed.recreate(database)
        catalog = await seed.seed(
            DB,
            providers=PROVIDERS,
            slots=SLOTS,
            customers=CUSTOMERS,
            history=HISTORY,
            active=args.active_holds,
            jwt_secret=JWT_SECRET,
        )
        bench = Bench(args, catalog, workdir)
        # The load generator's own heap (the catalog, every token and request) is built:
        # keep the cyclic collector from walking it again in the middle of a measurement
        # (a full collection of it stalls this process for 50-90 ms, which every request
        # in flight would count as the server's latency).
        gc.collect()
        gc.freeze()
        async with AsyncExitStack() as stack:
            gateway = servers.stop_on_exit(stack, bench.sandbox())
            await servers.wait_ready(gateway, path="/sandbox/healthz", ok={200}, deadline_s=60)
            bench.gateway_port = gateway.port
            runs = []
            for n in args.workers:
                runs.append(await bench.at_workers(n))
                # each worker count's figures as soon as they are in (a later one may fail)
                print(report.render(runs[-1:], info, command, {}, md=False), flush=True)
        counts = await seed.autoanalyze_counts(DB)
        info["autoanalyze during the run"] = ", ".join(f"{t} {n}x" for t, n in counts.items())
        floors: dict[str, float] = {}
        if "holds" in args.only:
            print("pgbench floor ...", flush=True)
            floors = await floor.measure(
                REFERENCE / "pg_hold.sql",
                workdir,
                ref_db=DB_REF,
                slotbook_db=DB,
                slots=SLOTS,
                customer_ids=catalog.customer_ids[: CUSTOMERS - HOLDERS],
                seconds=args.floor_seconds,
            )
    finally:
        if not args.keep:
            for database in (DB, DB_REF, DB_REF_HOT):
                await seed.drop(database)
        shutil.rmtree(workdir, ignore_errors=True)
    print()
    print(report.render(runs, info, command, floors, md=False))
    out = REPO / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "latest.md").write_text(report.render(runs, info, command, floors, md=True))
    print(f"written to {out / 'latest.md'}")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workers", default="1,2", help="worker counts, comma-separated")
    p.add_argument("--seconds", type=int, default=5, help="length of one measured round")
    p.add_argument("--bursts", type=int, default=3, help="hot-slot bursts per worker count")
    p.add_argument(
        "--active-holds",
        type=int,
        default=CUSTOMERS - HOLDERS,
        help="customers who start with a live hold (0: statistics say no slot is held)",
    )
    p.add_argument("--floor-seconds", type=int, default=10, help="length of each pgbench run")
    p.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    p.add_argument(
        "--only",
        default=",".join(PARTS),
        help=f"the parts to measure, comma-separated, of {','.join(PARTS)} (default all)",
    )
    args = p.parse_args()
    args.workers = [int(n) for n in args.workers.split(",")]
    args.only = set(args.only.split(","))
    if not args.only <= set(PARTS):
        p.error(f"--only takes {', '.join(PARTS)}")
    if not all(1 <= n <= 2 for n in args.workers):
        # 2 workers already hold 60 of PostgreSQL's 100 default connections
        p.error("--workers takes 1 and/or 2")
    if args.bursts > 10 or not 1 <= args.seconds <= 60 or not 1 <= args.floor_seconds <= 60:
        p.error("at most 10 bursts, and 1 to 60 seconds per round")
    if not 0 <= args.active_holds <= CUSTOMERS - HOLDERS:
        p.error(f"--active-holds goes from 0 to {CUSTOMERS - HOLDERS}")
    return args


if __name__ == "__main__":
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main(parse_args()))
