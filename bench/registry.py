"""Benchmark suites by name: each starts what it needs and returns keys of latest.json.

Add a measurement by decorating a function in any `bench/*.py` module with `@suite("name")`;
`python -m bench` imports every module of the package, runs each suite (or those named on
the command line) and merges what they return into `bench/results/latest.json`.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Suite = Callable[["BenchContext"], dict[str, Any]]
SUITES: dict[str, Suite] = {}


@dataclass(frozen=True)
class BenchContext:
    """What every suite gets: a directory for its logs and a private PostgreSQL database URL."""

    run_dir: Path
    database_url: str


def suite(name: str) -> Callable[[Suite], Suite]:
    """Register a benchmark suite under `name`."""

    def register(fn: Suite) -> Suite:
        SUITES[name] = fn
        return fn

    return register


def latency_summary(values_ms: list[float], duration_s: float | None = None) -> dict[str, float]:
    """Return p50, p99, count (and rate per second when a duration is given) of latencies."""
    ordered = sorted(values_ms)
    if not ordered:
        return {"p50": 0.0, "p99": 0.0, "count": 0}
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    summary: dict[str, float] = {
        "p50": round(statistics.median(ordered), 1),
        "p99": round(p99, 1),
        "count": len(ordered),
    }
    if duration_s:
        summary["rate_per_s"] = round(len(ordered) / duration_s, 1)
    return summary
