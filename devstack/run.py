"""`make run`: the gateway on embedded defaults, until Ctrl-C or SIGTERM.

SQLite by default, a local Redis (with an append-only file in var/, so a restart keeps the
queues) started when none answers, migrations, the API under gunicorn, one inbound worker and
one session host. `SIMULATOR=1` adds the offline simulator and, unless AI_BACKEND_URL is set,
the demo echo AI. Every process started here is stopped by its pid at the end.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

from devstack.process import ROOT
from devstack.redis import ping
from devstack.stack import Stack
from functions import migrate

VAR = ROOT / "var"


_stopping = threading.Event()


def _stop(_signum: int, _frame: object) -> None:
    # Ctrl-C signals make and us together, and make may signal again: only the first one
    # interrupts, so a second cannot cut the clean-up short before it ignores signals.
    if not _stopping.is_set():
        _stopping.set()
        raise KeyboardInterrupt


def _redis(stack: Stack) -> None:
    """Use REDIS_URL, or the Redis on REDIS_PORT, starting one there when none answers."""
    if os.environ.get("REDIS_URL"):
        stack.redis_url = os.environ["REDIS_URL"]
        return
    port = int(os.environ.get("REDIS_PORT", "6379"))
    stack.redis_url = f"redis://127.0.0.1:{port}/0"
    if not ping(stack.redis_url):
        print(f"starting a local redis-server on 127.0.0.1:{port} (logs: var/log/redis.log)", flush=True)
        stack.start_redis(port, appendonly=True, data_dir=VAR)


def up(stack: Stack, simulator: bool) -> None:
    """Start what `make run` runs, printing where each piece listens and logs."""
    _redis(stack)
    if simulator and not os.environ.get("AI_BACKEND_URL"):
        ai = stack.start_ai(int(os.environ.get("DEMO_AI_PORT", "8090")))
        print(f"demo AI backend on {ai.url} (logs: var/log/ai-backend.log)", flush=True)
    migrate.main()
    port = int(os.environ.get("PORT", "8080"))
    print(f"API on http://127.0.0.1:{port}  (health: /health; logs: var/log/api.log)", flush=True)
    stack.start_api(port)
    print("inbound worker: python -m functions.worker (logs: var/log/worker.log)", flush=True)
    stack.workers.start(1, log_name="worker")
    if simulator and not os.environ.get("WA_WEB_URL"):
        stack.start_simulator(int(os.environ.get("SIMULATOR_PORT", "8070")))
        print(
            f"simulator on {stack.sim_url}/ (control API: {stack.sim_url}/control/health;"
            " logs: var/log/simulator.log)",
            flush=True,
        )
    stack.host_settings["events_url"] = os.environ.get("EVENTS_URL", stack.api_url)
    metrics_port = os.environ.get("METRICS_PORT", "9108")
    wa_web = (
        f"{stack.sim_url}/" if stack.sim_url else os.environ.get("WA_WEB_URL", "https://web.whatsapp.com")
    )
    print(
        f"session host -> {wa_web} (logs: var/log/session-host.log,"
        f" metrics: http://127.0.0.1:{metrics_port}/metrics)",
        flush=True,
    )
    stack.start_host(None, name="session-host", metrics_port=metrics_port)


def main() -> int:
    """Run the stack until a signal or until one of its processes exits; stop everything."""
    os.environ.setdefault("DATABASE_URL", "sqlite:///var/gateway.db")
    (VAR / "log").mkdir(parents=True, exist_ok=True)
    database_url = os.environ["DATABASE_URL"]
    stack = Stack(VAR / "log", database_url, tuned=False, base_env=os.environ)
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        up(stack, simulator=os.environ.get("SIMULATOR", "0") == "1")
        while all(process.alive() for process in stack.running()):
            time.sleep(0.5)
        ended = next(p for p in stack.running() if not p.alive())
        print(f"{ended.name} exited (see {ended.log_path}); stopping", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        return 0
    except AssertionError as exc:  # a start-up wait failed: say which, then clean up
        print(f"start-up failed: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        # A second Ctrl-C must not cut the clean-up short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.stop()
