"""`python -m bench lambda`: what every cold start of the API's Lambda pays, and its zip's size.

`lambda_import_ms`: the median of 5 fresh interpreters each importing
`functions.lambda_handler` (which builds the app, as a cold container does before its first
request), timed inside the interpreter around the import alone, with bytecode cached.
`lambda_import_from_source_ms`: the same compiling every module from source, as a zip without
.pyc files does on every cold start (Lambda cannot write a pycache into /var/task).
`lambda_zip_mb`: the size of the zip `make package` builds (x86_64, python 3.12).
`lambda_import_top` names the modules whose own import code costs the most in one
`python -X importtime` run (milliseconds).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.registry import BenchContext, suite

ROOT = Path(__file__).resolve().parents[1]
RUNS = 5
_TIMED = (
    "import time; t = time.perf_counter(); import functions.lambda_handler; print(time.perf_counter() - t)"
)


def _env(ctx: BenchContext) -> dict[str, str]:
    # Settings a Lambda would have; nothing is contacted at import (connections open lazily).
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "APP_ENV": "development",
        "DATABASE_URL": f"sqlite:///{ctx.run_dir / 'lambda.db'}",
        "LOG_LEVEL": "WARNING",
    }


def import_ms(ctx: BenchContext, runs: int = RUNS, *, compiled: bool = True) -> float:
    """Return the median import time of the handler over `runs` fresh interpreters.

    `compiled`: with bytecode already cached (one warm-up run writes it into a private
    pycache prefix); otherwise every module is compiled from source on each run, which is what
    a zip without .pyc files costs on Lambda's read-only /var/task.
    """
    env = _env(ctx)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    samples = []
    with tempfile.TemporaryDirectory() as cache:
        for n in range(runs + (1 if compiled else 0)):
            prefix = cache if compiled else str(Path(cache) / str(n))
            done = subprocess.run(
                [sys.executable, "-X", f"pycache_prefix={prefix}", "-c", _TIMED],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            if compiled and n == 0:
                continue  # the warm-up that writes the bytecode
            samples.append(float(done.stdout.strip().splitlines()[-1]) * 1000)
    return round(statistics.median(samples), 1)


def top_imports(ctx: BenchContext, count: int = 8) -> dict[str, float]:
    """Return the modules whose own import code costs the most in one run (ms, heaviest first)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import functions.lambda_handler"],
        cwd=ROOT,
        env=_env(ctx),
        capture_output=True,
        text=True,
        check=True,
    )
    rows = []
    for line in done.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) == 3 and parts[0].strip().isdigit():
            rows.append((parts[2].strip(), int(parts[0]) / 1000))
    return {name: round(ms, 1) for name, ms in sorted(rows, key=lambda r: -r[1])[:count]}


def zip_mb() -> float:
    """Build the Lambda zip as `make package` does and return its size in MB."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "lambda.zip"
        script = ROOT / "infra" / "scripts" / "build_lambda_zip.sh"
        subprocess.run([str(script), "x86_64", "3.12", str(out)], cwd=ROOT, check=True, capture_output=True)
        return round(out.stat().st_size / 1e6, 2)


@suite("lambda")
def lambda_cold(ctx: BenchContext) -> dict[str, Any]:
    """Measure the handler's import time and the zip's size."""
    return {
        "lambda_import_ms": import_ms(ctx),
        "lambda_import_from_source_ms": import_ms(ctx, compiled=False),
        "lambda_import_top": top_imports(ctx),
        "lambda_zip_mb": zip_mb(),
    }
