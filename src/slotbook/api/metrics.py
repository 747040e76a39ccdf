"""Prometheus metrics: hold attempts by outcome, hold latency, active holds.

With several worker processes, `slotbook serve` points PROMETHEUS_MULTIPROC_DIR at a
shared directory and every worker's figures are summed at scrape time.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

HOLD_ATTEMPTS = Counter(
    "slotbook_hold_attempts_total",
    "Hold attempts by outcome",
    ["outcome"],
)
HOLD_LATENCY = Histogram(
    "slotbook_hold_seconds",
    "Time to answer a hold attempt (lock, or refusal with suggestions)",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
ACTIVE_HOLDS = Gauge(
    "slotbook_active_holds",
    "Holds active and unexpired, read from the database at scrape time",
    multiprocess_mode="mostrecent",
)

OUTCOMES = ("granted", "same_hold", "unavailable", "contended", "not_found", "rejected", "error")
# each outcome's counter, bound once (`labels` costs the hot path a locked lookup per call)
HOLD_OUTCOMES = {outcome: HOLD_ATTEMPTS.labels(outcome) for outcome in OUTCOMES}


def exposition() -> tuple[bytes, str]:
    """The metrics text, summed over worker processes when there are several."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
