"""Turning measurements into the side-by-side table, as text for the terminal and Markdown.

A scenario's figures for one server are kept in `Side`; `tables` lines slotbook up against
the reference and `targets` checks the goals of the hot path.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from loads import BurstResult, LoadResult, percentile

TARGET_RATIO = 1.0
TARGET_P99_MS = 50.0
TARGET_HOT_P99_MS = 300.0
TARGET_RSS_MB = 200.0


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
        row(
            "holds/s, no customer twice in flight", lambda s: _rate(s.distinct, holds=True), ",.0f"
        ),
        row("  p50 ms", lambda s: _mean([r.p50_ms for r in s.distinct]), ".1f"),
        row("  p99 ms", lambda s: _mean([r.p99_ms for r in s.distinct]), ".1f"),
        text("  status mix", lambda s: _mix(s.distinct)),
        row("409 path req/s, 32 clients", lambda s: _rate(s.refused, holds=False), ",.0f"),
        row("  p50 ms", lambda s: _mean([r.p50_ms for r in s.refused]), ".1f"),
        row("  p99 ms", lambda s: _mean([r.p99_ms for r in s.refused]), ".1f"),
        text("  status mix", lambda s: _mix(s.refused)),
        text("hot slot, 500 at once: outcomes", lambda s: _burst_mix(s.bursts)),
        row("  p50 ms", lambda s: _lat(s.bursts, 50), ".1f"),
        row("  p99 ms", lambda s: _lat(s.bursts, 99), ".1f"),
        row("  last answer after ms", lambda s: _mean([b.makespan_ms for b in s.bursts]), ".1f"),
        row("peak RSS per worker MB", lambda s: max(s.rss_mb, default=float("nan")), ".1f"),
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
