"""`python -m bench [suite …]`: run the benchmark suites, print a table, write latest.json."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import sys
import time
from pathlib import Path
from typing import Any

import bench
from bench.registry import SUITES, BenchContext
from devstack.database import create_database, drop_database

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"
RUNS = Path(__file__).resolve().parents[1] / "var" / "bench-runs"
_NOT_SUITES = {"__main__", "registry"}


def discover() -> None:
    """Import every bench module so its @suite functions register themselves."""
    for module in pkgutil.iter_modules(bench.__path__):
        if module.name not in _NOT_SUITES:
            importlib.import_module(f"bench.{module.name}")


def flatten(results: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Return (dotted key, value) rows for the table."""
    rows: list[tuple[str, Any]] = []
    for key, value in results.items():
        if isinstance(value, dict):
            rows.extend(flatten(value, f"{prefix}{key}."))
        else:
            rows.append((f"{prefix}{key}", value))
    return rows


def main(argv: list[str] | None = None) -> int:
    """Run the suites and merge their results into bench/results/latest.json."""
    discover()
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("suites", nargs="*", help=f"suites to run (default: all of {', '.join(SUITES)})")
    args = parser.parse_args(argv)
    unknown = [name for name in args.suites if name not in SUITES]
    if unknown:
        parser.error(f"unknown suite(s) {', '.join(unknown)}; known: {', '.join(SUITES)}")
    chosen = args.suites or list(SUITES)
    results: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    for name in chosen:
        database_url = create_database("wagw_bench")
        started = time.monotonic()
        # Logs of every process stay here for a look after the run (var/ is not committed).
        run_dir = RUNS / f"{time.strftime('%Y%m%d-%H%M%S')}-{name}"
        run_dir.mkdir(parents=True)
        try:
            results.update(SUITES[name](BenchContext(run_dir, database_url)))
        finally:
            drop_database(database_url)
        print(f"suite {name}: {time.monotonic() - started:.0f}s", file=sys.stderr)
    results["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    # Anything else running skews the numbers: the 1-minute load average says how much.
    results["load_average_1m"] = round(os.getloadavg()[0], 2)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    rows = flatten(results)
    width = max(len(key) for key, _ in rows)
    print(f"{'measurement'.ljust(width)}  value")
    for key, value in rows:
        print(f"{key.ljust(width)}  {value}")
    print(f"written to {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
