"""One launcher for the gateway's processes: Redis, simulator, demo AI, API, workers, hosts.

Used by the end-to-end tests, `make bench`, `make demo` and `make run`. Every process is
started and stopped by its own pid. Each child's environment is built from the settings
classes (`functions.config.Settings`, `session_host.config.HostSettings`), so a misspelt
setting fails here instead of being silently ignored by the child.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from devstack.ai import AiBackend, start_ai_backend
from devstack.client import StackClient
from devstack.env import clean_env, env_for
from devstack.process import PYTHON, ROOT, Process, free_port, wait_http_ok
from devstack.redis import start_redis
from devstack.workers import Workers
from functions.config import Settings
from session_host.config import HostSettings

EVENTS_SECRET = "stack-events-secret"  # noqa: S105 - a throwaway secret for local stacks
# Short timeouts so the tests and benchmarks see takeovers and failures quickly.
TUNED_API = {"app_env": "test", "log_level": "WARNING", "host_ttl_seconds": 6}
TUNED_HOST = {
    "max_sessions": 20,
    "host_ttl_seconds": 6,
    "heartbeat_seconds": 1,
    "load_timeout_seconds": 20,
    "log_level": "INFO",
}


class Stack(StackClient):
    """The gateway's processes for one test module, benchmark, demo or `make run`.

    `tuned` (the default) gives the short timeouts, private directories and throwaway secret
    of a test stack; `make run` passes `tuned=False` and the user's environment as `base_env`.
    `api` and `host` are Settings / HostSettings field values that override everything else.
    """

    def __init__(
        self,
        run_dir: Path,
        database_url: str,
        api: Mapping[str, object] | None = None,
        host: Mapping[str, object] | None = None,
        *,
        tuned: bool = True,
        base_env: Mapping[str, str] | None = None,
    ):
        super().__init__()
        self.run_dir = run_dir
        self.database_url = database_url
        self.auth_dir = run_dir / "auth"
        self.temp_dir = run_dir / "tmp"
        private = {"events_secret": EVENTS_SECRET, "temp_dir": self.temp_dir}
        self.api_settings: dict[str, object] = {**TUNED_API, **private} if tuned else {}
        self.api_settings.update(api or {})
        self.host_settings: dict[str, object] = (
            {**TUNED_HOST, **private, "wa_auth_dir": self.auth_dir} if tuned else {}
        )
        self.host_settings.update(host or {})
        if token := self.api_settings.get("admin_token"):
            self.admin_headers = {"Authorization": f"Bearer {token}"}
        self.tuned = tuned
        self.base_env = dict(clean_env() if base_env is None else base_env)
        self.base_env["PYTHONPATH"] = str(ROOT)
        self.processes: dict[str, Process] = {}
        self.hosts: dict[str, int] = {}
        self.workers = Workers(self.worker_env, run_dir)
        self.ai: AiBackend | None = None
        self.redis_port = 0
        self.redis_dir = run_dir / "redis-data"
        self.redis_appendonly = True

    def start(self, hosts: tuple[str, ...] = ("host-a",), ai: bool = False, workers: int = 0) -> Stack:
        """Start Redis, the simulator, the demo AI (if asked), the API, workers and session hosts."""
        self.start_redis()
        self.start_simulator()
        if ai:
            self.start_ai()
        self.start_api()
        self.workers.start(workers)
        for host_id in hosts:
            self.start_host(host_id)
        return self

    # -- Redis -----------------------------------------------------------------------------
    def start_redis(
        self, port: int | None = None, appendonly: bool = True, data_dir: Path | None = None
    ) -> None:
        """Start a private redis-server; with `appendonly`, its AOF lives in `data_dir`."""
        self.redis_appendonly = appendonly
        self.redis_dir = data_dir or self.redis_dir
        self.processes["redis"], self.redis_url = start_redis(
            self.run_dir, "redis", port or self.redis_port or None, self.redis_dir, appendonly
        )
        self.redis_port = int(self.redis_url.rsplit(":", 1)[1].split("/")[0])

    def stop_redis(self) -> None:
        """Stop Redis (SIGTERM: it flushes its append-only file first)."""
        self.processes.pop("redis").stop()

    def restart_redis(self, keep_data: bool) -> None:
        """Restart Redis on the same port, with its append-only file or empty."""
        if "redis" in self.processes:
            self.stop_redis()
        if not keep_data:
            shutil.rmtree(self.redis_dir, ignore_errors=True)
        self.start_redis(self.redis_port, self.redis_appendonly, self.redis_dir)

    # -- the outside world -----------------------------------------------------------------
    def start_simulator(self, port: int | None = None) -> None:
        """Start the WhatsApp Web simulator."""
        port = port or free_port()
        args = [PYTHON, "-m", "simulator", "--port", str(port)]
        self.processes["simulator"] = Process("simulator", args, env=self.base_env, log_dir=self.run_dir)
        self.sim_url = f"http://127.0.0.1:{port}"
        wait_http_ok(f"{self.sim_url}/control/health", 30, self.processes["simulator"])

    def start_ai(self, port: int | None = None) -> AiBackend:
        """Start the demo AI backend; the API and workers started after it call it."""
        self.ai = start_ai_backend(self.run_dir, port=port, env=self.base_env)
        self.processes["ai-backend"] = self.ai.process
        return self.ai

    # -- the functions ---------------------------------------------------------------------
    def api_env(self, **values: object) -> dict[str, str]:
        """Return the environment of the API and its workers (Settings fields)."""
        wired: dict[str, object] = {"database_url": self.database_url, "redis_url": self.redis_url}
        if self.ai is not None:
            wired["ai_backend_url"] = self.ai.url
        if self.tuned and self.api_url:
            # Workers make the AI's media links: they point at this stack's API, on its free port.
            wired["public_url"] = self.api_url
        return {**self.base_env, **env_for(Settings, {**wired, **self.api_settings, **values})}

    def worker_env(self) -> dict[str, str]:
        """Return an inbound worker's environment: the API's settings, logging at INFO."""
        return self.api_env(log_level="INFO")

    def start_api(self, port: int | None = None) -> None:
        """Start the functions under gunicorn."""
        port = port or free_port()
        env = self.api_env(port=port)
        if self.tuned:
            metrics_dir = self.run_dir / "prometheus"
            metrics_dir.mkdir(parents=True, exist_ok=True)
            env.update({"WEB_CONCURRENCY": "2", "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)})
        args = [PYTHON, "-m", "gunicorn", "-c", "functions/gunicorn_conf.py", "functions.app:create_app()"]
        self.processes["api"] = Process("api", args, env=env, log_dir=self.run_dir)
        self.api_url = f"http://127.0.0.1:{port}"
        wait_http_ok(f"{self.api_url}/health", 30, self.processes["api"])

    # -- session hosts ---------------------------------------------------------------------
    def host_env(self, host_id: str | None, **overrides: object) -> dict[str, str]:
        """Return the environment of a session host process (HostSettings fields)."""
        key = host_id or ""
        self.hosts.setdefault(key, free_port())
        wired: dict[str, object] = {"redis_url": self.redis_url, "host_id": host_id}
        if self.tuned:
            wired["metrics_port"] = self.hosts[key]
        if self.sim_url:
            wired["wa_web_url"] = f"{self.sim_url}/"
        if self.api_url:
            wired["events_url"] = self.api_url
        values = {**wired, **self.host_settings, **overrides}
        if "metrics_port" in values:
            self.hosts[key] = int(values["metrics_port"])  # type: ignore[call-overload]
        return {**self.base_env, **env_for(HostSettings, values)}

    def start_host(self, host_id: str | None = None, name: str | None = None, **overrides: object) -> Process:
        """Start a session host and wait until it serves /metrics (it is registered by then)."""
        env = self.host_env(host_id, **overrides)
        name = name or f"host-{host_id}"
        process = Process(name, [PYTHON, "-m", "session_host"], env=env, log_dir=self.run_dir)
        self.processes[f"host:{host_id or ''}"] = process
        if self.hosts.get(host_id or ""):
            wait_http_ok(self.metrics_url(host_id or ""), 30, process)
        return process

    def host(self, host_id: str) -> Process:
        """Return a running session host's process."""
        return self.processes[f"host:{host_id}"]

    def metrics_url(self, host_id: str) -> str:
        """Return the /metrics URL of a session host."""
        return f"http://127.0.0.1:{self.hosts[host_id]}/metrics"

    def running(self) -> list[Process]:
        """Return every process of the stack, workers included."""
        return [*self.processes.values(), *self.workers.processes.values()]

    def stop(self) -> None:
        """Stop every process: hosts first (they close their Chromes), then workers, Redis last."""
        hosts = [name for name in self.processes if name.startswith("host:")]
        rest = sorted(set(self.processes) - set(hosts), key=lambda name: name == "redis")
        for name in hosts:
            with contextlib.suppress(Exception):
                self.processes[name].stop(timeout=60)
        self.workers.stop()
        for name in rest:
            with contextlib.suppress(Exception):
                self.processes[name].stop(timeout=60)
        self.processes.clear()


DEVELOPER_PHONE = "6289900000001"
# The inbound flow with short AI timeouts, leases and sweeps, so failures show quickly.
TUNED_INBOUND = {
    "developer_jid": DEVELOPER_PHONE,
    "ai_timeout_seconds": 2,
    "alert_throttle_seconds": 60,
    "inbound_lease_seconds": 2,
    "inbound_sweep_seconds": 0.5,
}


@contextmanager
def inbound_stack(
    run_dir: Path, database_url: str, workers: int = 2, **api: object
) -> Iterator[tuple[Stack, AiBackend, Workers]]:
    """Run a stack with the demo AI backend and inbound workers; stop all by pid at the end."""
    stack = Stack(run_dir, database_url, api={**TUNED_INBOUND, **api})
    try:
        stack.start(hosts=("host-a",), ai=True, workers=workers)
        assert stack.ai is not None
        yield stack, stack.ai, stack.workers
    finally:
        stack.stop()
