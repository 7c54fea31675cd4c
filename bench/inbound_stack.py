"""The inbound pieces of a real stack: the demo AI backend and `python -m functions.worker`s.

Used by the inbound end-to-end tests and the inbound benchmark, on top of `bench.stack.Stack`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis
from rq import Worker

from bench.stack import Stack
from tests.support.inbound import AiBackend, start_ai_backend
from tests.support.processes import PYTHON, Process
from tests.support.waiting import wait_until

DEVELOPER_PHONE = "6289900000001"


def api_env(ai: AiBackend, **overrides: str) -> dict[str, str]:
    """Return the environment the API and the workers need for the inbound flow."""
    env = {
        "AI_BACKEND_URL": ai.url,
        "DEVELOPER_JID": DEVELOPER_PHONE,
        "AI_TIMEOUT_SECONDS": "2",
        "ALERT_THROTTLE_SECONDS": "60",
        "INBOUND_LEASE_SECONDS": "2",
        "INBOUND_SWEEP_SECONDS": "0.5",
    }
    env.update(overrides)
    return env


class Workers:
    """`python -m functions.worker` processes beside a Stack, with the API's configuration."""

    def __init__(self, stack: Stack):
        self.stack = stack
        self.processes: dict[str, Process] = {}

    def env(self) -> dict[str, str]:
        """Return a worker's environment: the API's settings."""
        env = self.stack._base_env()
        env.update(
            {
                "APP_ENV": "test",
                "DATABASE_URL": self.stack.database_url,
                "REDIS_URL": self.stack.redis_url,
                "TEMP_DIR": str(self.stack.temp_dir),
                "LOG_LEVEL": "INFO",
            }
        )
        env.update(self.stack.api_env)
        return env

    def start(self, count: int = 1) -> Workers:
        """Start `count` more workers and wait until each listens."""
        for _ in range(count):
            name = f"inbound-worker-{len(self.processes) + 1}-{uuid.uuid4().hex[:4]}"
            args = [PYTHON, "-m", "functions.worker", "--name", name]
            self.processes[name] = Process(name, args, env=self.env(), log_dir=self.stack.run_dir)
            self._wait_registered(name)
        return self

    def _wait_registered(self, name: str) -> None:
        client = redis.Redis.from_url(self.stack.redis_url)
        process = self.processes[name]

        def registered() -> bool:
            if not process.alive():
                raise AssertionError(f"{name} exited:\n{process.log()[-3000:]}")
            return any(w.name == name for w in Worker.all(connection=client))

        try:
            wait_until(registered, 30, message=f"{name} listening")
        finally:
            client.close()

    def kill_all(self) -> None:
        """SIGKILL every worker (a crash), then forget them."""
        for process in self.processes.values():
            process.kill()
            process.stop()
        self.processes.clear()

    def stop(self) -> None:
        """SIGTERM every worker and wait for it."""
        for process in self.processes.values():
            process.stop()
        self.processes.clear()


@contextmanager
def inbound_stack(
    run_dir: Path, database_url: str, workers: int = 2, **env: str
) -> Iterator[tuple[Stack, AiBackend, Workers]]:
    """Run the demo AI backend, a Stack configured for it, and inbound workers; stop all by pid."""
    ai = start_ai_backend(run_dir)
    stack = Stack(run_dir, database_url, api_env=api_env(ai, **env))
    pool = Workers(stack)
    try:
        stack.start(hosts=("host-a",))
        pool.start(workers)
        yield stack, ai, pool
    finally:
        pool.stop()
        stack.stop()
        ai.process.stop()
