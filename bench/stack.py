"""Start the whole gateway as real processes: Redis, simulator, API (gunicorn), session hosts.

Used by the end-to-end tests and by `make bench`. Every process is started and stopped by
its own pid; PostgreSQL is the machine's server with a private database.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa

from functions import migrate
from functions.db import sqlalchemy_url
from tests.support.processes import PYTHON, ROOT, Process, free_port, start_redis, wait_http_ok
from tests.support.waiting import wait_until

PG_SERVER_URL = os.environ.get("TEST_PG_SERVER_URL", "postgresql://postgres:postgres@127.0.0.1:5432/postgres")
EVENTS_SECRET = "stack-events-secret"  # noqa: S105 - a throwaway secret for local stacks


def create_database(prefix: str = "wagw_stack") -> str:
    """Create and migrate a private PostgreSQL database; return its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(sqlalchemy_url(PG_SERVER_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = PG_SERVER_URL.rsplit("/", 1)[0] + f"/{name}"
    migrate.upgrade(url)
    return url


def drop_database(url: str) -> None:
    """Drop a database made by create_database."""
    name = url.rsplit("/", 1)[1]
    admin = sa.create_engine(sqlalchemy_url(PG_SERVER_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


class Stack:
    """The gateway's processes for one test module or one benchmark run."""

    def __init__(self, run_dir: Path, database_url: str, api_env: dict[str, str] | None = None):
        self.run_dir = run_dir
        self.database_url = database_url
        self.api_env = api_env or {}
        self.auth_dir = run_dir / "auth"
        self.temp_dir = run_dir / "tmp"
        self.processes: dict[str, Process] = {}
        self.hosts: dict[str, int] = {}
        self.redis_url = ""
        self.sim_url = ""
        self.api_url = ""

    # -- processes -----------------------------------------------------------------------
    def _base_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("WA_", "EVENTS_", "HOST_"))}
        env["PYTHONPATH"] = str(ROOT)
        return env

    def start(self, hosts: tuple[str, ...] = ("host-a",)) -> Stack:
        """Start Redis, the simulator, the API and the given session hosts."""
        self.start_redis()
        self.start_simulator()
        self.start_api()
        for host_id in hosts:
            self.start_host(host_id)
        return self

    def start_redis(self) -> None:
        """Start a private redis-server."""
        self.processes["redis"], self.redis_url = start_redis(self.run_dir, "redis")

    def start_simulator(self) -> None:
        """Start the WhatsApp Web simulator."""
        port = free_port()
        args = [PYTHON, "-m", "simulator", "--port", str(port)]
        self.processes["simulator"] = Process("simulator", args, env=self._base_env(), log_dir=self.run_dir)
        self.sim_url = f"http://127.0.0.1:{port}"
        wait_http_ok(f"{self.sim_url}/control/health", 30, self.processes["simulator"])

    def start_api(self) -> None:
        """Start the functions under gunicorn."""
        port = free_port()
        env = self._base_env()
        env.update(
            {
                "APP_ENV": "test",
                "PORT": str(port),
                "DATABASE_URL": self.database_url,
                "REDIS_URL": self.redis_url,
                "EVENTS_SECRET": EVENTS_SECRET,
                "TEMP_DIR": str(self.temp_dir),
                "LOG_LEVEL": "WARNING",
                "WEB_CONCURRENCY": "2",
                "HOST_TTL_SECONDS": "6",
                "PROMETHEUS_MULTIPROC_DIR": str(self.run_dir / "prometheus"),
            }
        )
        (self.run_dir / "prometheus").mkdir(exist_ok=True)
        env.update(self.api_env)
        args = [PYTHON, "-m", "gunicorn", "-c", "functions/gunicorn_conf.py", "functions.app:create_app()"]
        self.processes["api"] = Process("api", args, env=env, log_dir=self.run_dir)
        self.api_url = f"http://127.0.0.1:{port}"
        wait_http_ok(f"{self.api_url}/health", 30, self.processes["api"])

    def host_env(self, host_id: str, **overrides: str) -> dict[str, str]:
        """Return the environment of a session host process."""
        env = self._base_env()
        metrics_port = self.hosts.get(host_id) or free_port()
        self.hosts[host_id] = metrics_port
        env.update(
            {
                "HOST_ID": host_id,
                "MAX_SESSIONS": "20",
                "REDIS_URL": self.redis_url,
                "WA_WEB_URL": f"{self.sim_url}/",
                "WA_AUTH_DIR": str(self.auth_dir),
                "TEMP_DIR": str(self.temp_dir),
                "EVENTS_URL": self.api_url,
                "EVENTS_SECRET": EVENTS_SECRET,
                "METRICS_PORT": str(metrics_port),
                "HOST_TTL_SECONDS": "6",
                "HEARTBEAT_SECONDS": "1",
                "LOAD_TIMEOUT_SECONDS": "20",
                "LOG_LEVEL": "INFO",
            }
        )
        env.update(overrides)
        return env

    def start_host(self, host_id: str, **overrides: str) -> Process:
        """Start a session host and wait until it serves /metrics (it is registered by then)."""
        env = self.host_env(host_id, **overrides)
        process = Process(f"host-{host_id}", [PYTHON, "-m", "session_host"], env=env, log_dir=self.run_dir)
        self.processes[f"host:{host_id}"] = process
        wait_http_ok(self.metrics_url(host_id), 30, process)
        return process

    def host(self, host_id: str) -> Process:
        """Return a running session host's process."""
        return self.processes[f"host:{host_id}"]

    def metrics_url(self, host_id: str) -> str:
        """Return the /metrics URL of a session host."""
        return f"http://127.0.0.1:{self.hosts[host_id]}/metrics"

    def stop(self) -> None:
        """Stop every process, hosts first (they close their Chromes)."""
        for name in sorted(self.processes, key=lambda n: not n.startswith("host:")):
            with contextlib.suppress(Exception):
                self.processes[name].stop(timeout=60)
        self.processes.clear()

    # -- HTTP helpers --------------------------------------------------------------------
    def api(self, method: str, path: str, timeout: float = 90, **kwargs: Any) -> requests.Response:
        """Call the API."""
        return requests.request(method, self.api_url + path, timeout=timeout, **kwargs)

    def sim(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call the simulator's control API and return its JSON (raise on HTTP errors)."""
        response = requests.request(method, self.sim_url + path, timeout=30, **kwargs)
        response.raise_for_status()
        return response.json()

    def sent(self, phone: str) -> list[dict[str, Any]]:
        """Return what an account's page sent, in order."""
        return self.sim("GET", f"/control/accounts/{phone}/sent")

    def create_session(self, agent_id: str, api_key: str, user_id: str = "user-1") -> dict[str, Any]:
        """POST /sessions and return the body (raise on HTTP errors)."""
        body = {"userId": user_id, "agentId": agent_id, "agentName": f"Agent {agent_id}", "apikey": api_key}
        response = self.api("POST", "/sessions", json=body)
        assert response.status_code in (200, 201), response.text
        return response.json()

    def session(self, agent_id: str) -> dict[str, Any]:
        """GET /sessions/{agentId}."""
        response = self.api("GET", f"/sessions/{agent_id}")
        assert response.status_code == 200, response.text
        return response.json()

    def wait_state(self, agent_id: str, predicate, timeout: float = 60) -> dict[str, Any]:
        """Wait until GET /sessions/{agentId}'s liveState satisfies `predicate`; return the body."""

        last: dict[str, Any] = {}

        def check() -> dict[str, Any] | None:
            body = self.session(agent_id)
            last.update(body["liveState"])
            return body if predicate(body["liveState"]) else None

        try:
            return wait_until(check, timeout, interval=0.1, message=f"{agent_id} live state")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; last live state: {last}") from None

    def scan(self, qr: str, phone: str) -> dict[str, Any]:
        """Scan a QR with a phone: link that device to the account."""
        return self.sim("POST", "/control/scan", json={"qr": qr, "phone": phone})

    def scan_current(self, agent_id: str, phone: str, timeout: float = 60) -> None:
        """Scan the agent's QR as shown right now (QRs rotate, so retry on a stale one)."""

        def attempt() -> bool:
            qr = self.wait_state(agent_id, lambda s: s["qr"] or s["isReady"], timeout)["liveState"]["qr"]
            if qr is None:
                return True
            response = requests.post(
                f"{self.sim_url}/control/scan", json={"qr": qr, "phone": phone}, timeout=30
            )
            return response.status_code == 200

        wait_until(attempt, timeout, interval=0.2, message=f"scan {agent_id}'s QR")

    def link(self, agent_id: str, phone: str, api_key: str) -> dict[str, Any]:
        """Create a session, scan its QR and wait until it is ready; return the session body."""
        self.create_session(agent_id, api_key)
        self.scan_current(agent_id, phone)
        return self.wait_state(agent_id, lambda s: s["isReady"], 60)


def wait_pid_gone(pids: list[int], timeout: float = 20) -> None:
    """Wait until none of `pids` runs."""

    def gone() -> bool:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, 0)
                stat = Path(f"/proc/{pid}/stat").read_text()
                if stat.split(")")[-1].split()[0] != "Z":
                    return False
        return True

    wait_until(gone, timeout, interval=0.1, message="processes ended")


def monotonic_ms() -> float:
    """Return a monotonic clock in milliseconds."""
    return time.monotonic() * 1000
