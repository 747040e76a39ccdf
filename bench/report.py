"""Turning measurements into the side-by-side table, as text for the terminal and Markdown.

A scenario's figures for one server are kept in `Side`; `tables` lines slotbook up against
the reference and `targets` checks the goals of the hot path.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from loads import BurstResult, LoadResult, percentile
from payments import PaymentFigures

TARGET_RATIO = 1.0
TARGET_P99_MS = 50.0
TARGET_HOT_P99_MS = 300.0
TARGET_RSS_MB = 200.0
TARGET_LOGIN_BURST_HOLD_P99_MS = 1000.0  # the spec's ceiling for the lock
TARGET_WEBHOOK_P99_MS = 50.0
TARGET_SUCCESS_TO_BOOKING_P99_MS = 250.0
LOGINS = 150


@dataclass
class Side:
    """Everything measured for one server at one worker count."""

    uncontended: list[LoadResult] = field(default_factory=list)
    distinct: list[LoadResult] = field(default_factory=list)  # no customer twice in flight
    refused: list[LoadResult] = field(default_factory=list)
    bursts: list[BurstResult] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)
    server_cpu_s: float = 0.0
    pg_cpu_s: float = 0.0
    wrk_cpu_s: float = 0.0
    other_cpu_s: float = 0.0  # everything else on the machine during the measured rounds
    deadlocks: int = 0  # detected by PostgreSQL in the whole run at this worker count
    login_burst: BurstResult | None = None  # slotbook only: the logins at one moment
    holds_during_logins: list[float] = field(default_factory=list)  # ms, each hold meanwhile
    holds_during_logins_mix: dict[int, int] = field(default_factory=dict)
    payments: PaymentFigures = field(default_factory=PaymentFigures)  # slotbook only
    rss_after_logins_mb: list[float] = field(default_factory=list)  # argon2: 64 MiB a hash
    # slotbook only: the group commit's batches during a scenario's measured rounds, by size
    batches: dict[str, Counter[int]] = field(default_factory=dict)


@dataclass
class Run:
    workers: int
    slotbook: Side = field(default_factory=Side)
    reference: Side = field(default_factory=Side)


def _rate(results: list[LoadResult], *, holds: bool) -> float:
    seconds = sum(r.seconds for r in results)
    count = sum(r.holds if holds else r.requests for r in results)
    return count / seconds if seconds else float("nan")


def _mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else float("nan")


def _mix(results: list[LoadResult]) -> str:
    total: dict[int, int] = {}
    for r in results:
        for status, n in r.mix.items():
            total[status] = total.get(status, 0) + n
    errors = sum(r.socket_errors for r in results)
    text = " ".join(f"{s}:{n}" for s, n in sorted(total.items())) or "-"
    return text + (f" sockerr:{errors}" if errors else "")


def _burst_mix(bursts: list[BurstResult]) -> str:
    total: dict[int, int] = {}
    for b in bursts:
        for status in b.statuses:
            total[status] = total.get(status, 0) + 1
    per = " ".join(f"{s}:{n}" for s, n in sorted(total.items()))
    return f"{per} in {len(bursts)}" if bursts else "-"


BATCH_BUCKETS = ((1, 1), (2, 3), (4, 7), (8, 15), (16, 256))


def _batch_mix(side: Side, scenario: str) -> str:
    """The mean batch size, and the share of holds placed in batches of each size range."""
    sizes = side.batches.get(scenario)
    holds = sum(size * n for size, n in sizes.items()) if sizes else 0
    if not sizes or not holds:
        return "-"
    mean = holds / sum(sizes.values())
    shares = []
    for low, high in BATCH_BUCKETS:
        placed = sum(size * n for size, n in sizes.items() if low <= size <= high)
        name = str(low) if low == high else f"{low}+" if high == 256 else f"{low}-{high}"
        shares.append(f"{name}:{100 * placed / holds:.0f}%")
    return f"mean {mean:.1f}; " + " ".join(shares)


def _lat(bursts: list[BurstResult], q: float) -> float:
    return percentile([ms for b in bursts for ms in b.latencies_ms], q)


def _per_request_ms(cpu_s: float, results: list[LoadResult]) -> float:
    requests = sum(r.requests for r in results)
    return 1000 * cpu_s / requests if requests else float("nan")


def _cores(cpu_s: float, results: list[LoadResult]) -> float:
    seconds = sum(r.seconds for r in results)
    return cpu_s / seconds if seconds else float("nan")


Row = tuple[str, str, str, str]


def table(run: Run) -> list[Row]:
    """Rows of (scenario, slotbook, reference, ratio slotbook/reference)."""

    def row(name: str, of: Callable[[Side], float], fmt: str, *, ratio: bool = True) -> Row:
        sb, ref = of(run.slotbook), of(run.reference)
        shown = f"{sb / ref:.2f}x" if ratio and ref and ref == ref and sb == sb else "-"
        return name, format(sb, fmt), format(ref, fmt), shown

    def text(name: str, of: Callable[[Side], str]) -> Row:
        return name, of(run.slotbook), of(run.reference), ""

    return [
        row("holds/s, 32 clients", lambda s: _rate(s.uncontended, holds=True), ",.0f"),
        row("  p50 ms", lambda s: _mean([r.p50_ms for r in s.uncontended]), ".1f"),
        row("  p99 ms", lambda s: _mean([r.p99_ms for r in s.uncontended]), ".1f"),
        text("  status mix", lambda s: _mix(s.uncontended)),
        row(
            "  server CPU ms/request",
            lambda s: _per_request_ms(s.server_cpu_s, s.uncontended),
            ".3f",
        ),
        row(
            "  PostgreSQL CPU ms/request",
            lambda s: _per_request_ms(s.pg_cpu_s, s.uncontended),
            ".3f",
        ),
        row("  wrk CPU ms/request", lambda s: _per_request_ms(s.wrk_cpu_s, s.uncontended), ".3f"),
        row(
            "  other processes' CPU, cores",
            lambda s: _cores(s.other_cpu_s, s.uncontended),
            ".2f",
            ratio=False,
        ),
        text("  PostgreSQL deadlocks, whole run", lambda s: str(s.deadlocks)),
        text("  hold batches (share of holds)", lambda s: _batch_mix(s, "uncontended")),
        row(
            "holds/s, no customer twice in flight", lambda s: _rate(s.distinct, holds=True), ",.0f"
        ),
        row("  p50 ms", lambda s: _mean([r.p50_ms for r in s.distinct]), ".1f"),
        row("  p99 ms", lambda s: _mean([r.p99_ms for r in s.distinct]), ".1f"),
        text("  status mix", lambda s: _mix(s.distinct)),
        text("  hold batches (share of holds)", lambda s: _batch_mix(s, "distinct")),
        row("409 path req/s, 32 clients", lambda s: _rate(s.refused, holds=False), ",.0f"),
        row("  p50 ms", lambda s: _mean([r.p50_ms for r in s.refused]), ".1f"),
        row("  p99 ms", lambda s: _mean([r.p99_ms for r in s.refused]), ".1f"),
        text("  status mix", lambda s: _mix(s.refused)),
        text("  hold batches (share of holds)", lambda s: _batch_mix(s, "refused")),
        text("hot slot, 500 at once: outcomes", lambda s: _burst_mix(s.bursts)),
        row("  p50 ms", lambda s: _lat(s.bursts, 50), ".1f"),
        row("  p99 ms", lambda s: _lat(s.bursts, 99), ".1f"),
        row("  last answer after ms", lambda s: _mean([b.makespan_ms for b in s.bursts]), ".1f"),
        text("  hold batches (share of holds)", lambda s: _batch_mix(s, "hot")),
        text(
            f"{LOGINS} logins at once: outcomes",
            lambda s: _burst_mix([s.login_burst]) if s.login_burst else "-",
        ),
        row(
            "  last login answered after ms",
            lambda s: s.login_burst.makespan_ms if s.login_burst else float("nan"),
            ",.0f",
            ratio=False,
        ),
        text(
            "  holds meanwhile: status mix",
            lambda s: (
                " ".join(f"{k}:{v}" for k, v in sorted(s.holds_during_logins_mix.items())) or "-"
            ),
        ),
        row(
            "  holds meanwhile p99 ms",
            lambda s: percentile(s.holds_during_logins, 99),
            ".1f",
            ratio=False,
        ),
        row(
            "  holds meanwhile max ms",
            lambda s: max(s.holds_during_logins, default=float("nan")),
            ".1f",
            ratio=False,
        ),
        text(
            "webhooks (signed successes) statuses",
            lambda s: (
                " ".join(f"{k}:{v}" for k, v in sorted(s.payments.webhook_statuses.items()))
                + (f" at {s.payments.webhook_concurrency} at once" if s.payments.webhook_ms else "")
                or "-"
            ),
        ),
        row("  p50 ms", lambda s: percentile(s.payments.webhook_ms, 50), ".1f", ratio=False),
        row("  p99 ms", lambda s: percentile(s.payments.webhook_ms, 99), ".1f", ratio=False),
        row(
            "  one at a time p50 ms",
            lambda s: percentile(s.payments.webhook_one_ms, 50),
            ".1f",
            ratio=False,
        ),
        row(
            "  one at a time p99 ms",
            lambda s: percentile(s.payments.webhook_one_ms, 99),
            ".1f",
            ratio=False,
        ),
        row(
            "  server CPU ms/webhook",
            lambda s: s.payments.webhook_server_cpu_ms,
            ".2f",
            ratio=False,
        ),
        row(
            "  PostgreSQL CPU ms/webhook",
            lambda s: s.payments.webhook_pg_cpu_ms,
            ".2f",
            ratio=False,
        ),
        text(
            "gateway's recorded success to booking, flows at once",
            lambda s: (
                f"{s.payments.flows_confirmed} of {s.payments.flows} confirmed"
                if s.payments.flows
                else "-"
            ),
        ),
        row(
            "  p50 ms",
            lambda s: percentile(s.payments.success_to_booking_ms, 50),
            ".1f",
            ratio=False,
        ),
        row(
            "  p99 ms",
            lambda s: percentile(s.payments.success_to_booking_ms, 99),
            ".1f",
            ratio=False,
        ),
        row(
            "  from the complete call p50 ms",
            lambda s: percentile(s.payments.call_to_booking_ms, 50),
            ".1f",
            ratio=False,
        ),
        row(
            "  from the complete call p99 ms",
            lambda s: percentile(s.payments.call_to_booking_ms, 99),
            ".1f",
            ratio=False,
        ),
        row("peak RSS per worker MB", lambda s: max(s.rss_mb, default=float("nan")), ".1f"),
        row(
            "  after the login burst MB",
            lambda s: max(s.rss_after_logins_mb, default=float("nan")),
            ".1f",
            ratio=False,
        ),
    ]


def targets(run: Run) -> list[tuple[str, str, str]]:
    """(target, measured, verdict) for the goals of the hot path."""
    sb, ref = run.slotbook, run.reference
    ratio = _rate(sb.uncontended, holds=True) / _rate(ref.uncontended, holds=True)
    distinct = _rate(sb.distinct, holds=True) / _rate(ref.distinct, holds=True)
    p99 = _mean([r.p99_ms for r in sb.uncontended])
    p99_distinct = _mean([r.p99_ms for r in sb.distinct])
    hot = _lat(sb.bursts, 99)
    rss = max(sb.rss_mb, default=float("nan"))
    during = percentile(sb.holds_during_logins, 99)
    logins_ok = sb.login_burst is not None and set(sb.login_burst.statuses) == {200}

    def verdict(ok: bool) -> str:
        return "met" if ok else "MISSED"

    return [
        (
            f"holds/s >= {TARGET_RATIO:.1f}x reference",
            f"{ratio:.2f}x",
            verdict(ratio >= TARGET_RATIO),
        ),
        (
            "  (same, no customer twice in flight)",
            f"{distinct:.2f}x",
            verdict(distinct >= TARGET_RATIO),
        ),
        (
            f"p99 < {TARGET_P99_MS:.0f} ms at 32 clients",
            f"{p99:.1f} ms",
            verdict(p99 < TARGET_P99_MS),
        ),
        (
            "  (same, no customer twice in flight)",
            f"{p99_distinct:.1f} ms",
            verdict(p99_distinct < TARGET_P99_MS),
        ),
        (
            f"hot slot p99 < {TARGET_HOT_P99_MS:.0f} ms",
            f"{hot:.1f} ms",
            verdict(hot < TARGET_HOT_P99_MS),
        ),
        (
            f"{LOGINS} logins at once all 200, holds meanwhile p99 < "
            f"{TARGET_LOGIN_BURST_HOLD_P99_MS:.0f} ms",
            f"{during:.1f} ms",
            verdict(logins_ok and during < TARGET_LOGIN_BURST_HOLD_P99_MS),
        ),
        (
            f"webhook p99 < {TARGET_WEBHOOK_P99_MS:.0f} ms, "
            f"{sb.payments.webhook_concurrency} at once",
            f"{percentile(sb.payments.webhook_ms, 99):.1f} ms",
            verdict(
                set(sb.payments.webhook_statuses) == {200}
                and percentile(sb.payments.webhook_ms, 99) < TARGET_WEBHOOK_P99_MS
            ),
        ),
        (
            "  (same, one at a time)",
            f"{percentile(sb.payments.webhook_one_ms, 99):.1f} ms",
            verdict(
                set(sb.payments.webhook_one_statuses) == {200}
                and percentile(sb.payments.webhook_one_ms, 99) < TARGET_WEBHOOK_P99_MS
            ),
        ),
        (
            f"gateway success to booking p99 < {TARGET_SUCCESS_TO_BOOKING_P99_MS:.0f} ms",
            f"{percentile(sb.payments.success_to_booking_ms, 99):.1f} ms",
            verdict(
                sb.payments.flows_confirmed == sb.payments.flows > 0
                and percentile(sb.payments.success_to_booking_ms, 99)
                < TARGET_SUCCESS_TO_BOOKING_P99_MS
            ),
        ),
        (
            f"RSS < {TARGET_RSS_MB:.0f} MB per process",
            f"{rss:.1f} MB",
            verdict(rss < TARGET_RSS_MB),
        ),
    ]


def code_version(repo: Path) -> str:
    """The commit under test, marked when the working tree has uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "-C", str(repo), "log", "-1", "--format=%h %s"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=no", "src"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + (" (plus uncommitted changes in src/)" if dirty else "")


def machine(pg_version: str) -> dict[str, str]:
    model, mem_kb = "unknown", 0
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": f"{len(os.sched_getaffinity(0))} ({model})",
        "memory": f"{mem_kb / 1024 / 1024:.1f} GiB",
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "postgresql": pg_version,
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def _text_table(header: list[str], rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _md_table(header: list[str], rows: list[tuple[str, ...]]) -> str:
    def cells(r: tuple[str, ...] | list[str]) -> str:
        return "| " + " | ".join(str(c).replace("  ", "&nbsp;&nbsp;", 1) for c in r) + " |"

    return "\n".join([cells(header), "|" + "---|" * len(header), *(cells(r) for r in rows)])


HEADER = ["scenario", "slotbook", "reference", "ratio"]
TARGET_HEADER = ["target", "measured", "verdict"]


def render(
    runs: list[Run], info: dict[str, str], command: str, floors: dict[str, float], md: bool
) -> str:
    """The whole report, as plain text (md=False) or Markdown."""
    grid = _md_table if md else _text_table
    out = ["# slotbook hold path benchmark" if md else "slotbook hold path benchmark", ""]
    out += [f"- {k}: {v}" for k, v in info.items()]
    out += [f"- command: `{command}`" if md else f"- command: {command}", ""]
    for run in runs:
        title = f"workers = {run.workers}"
        out += [f"## {title}" if md else f"== {title} ==", "", grid(HEADER, table(run)), ""]
        out += [grid(TARGET_HEADER, targets(run)), ""]
    title = "PostgreSQL floor: pgbench, 16 clients, no HTTP"
    out += [f"## {title}" if md else f"== {title} ==", ""]
    rows = [(name, f"{tps:,.0f}") for name, tps in floors.items()]
    out.append(grid(["statement", "holds/s"], rows))
    return "\n".join(out) + "\n"
