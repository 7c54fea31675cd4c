"""`python -m functions.worker` processes, each waited on until RQ lists it."""

from __future__ import annotations

import uuid
from pathlib import Path

import redis
from rq import Worker

from devstack.process import PYTHON, Process, wait_until


def start_worker(env: dict[str, str], log_dir: Path, name: str, log_name: str | None = None) -> Process:
    """Start an inbound worker named `name` and wait until it listens."""
    args = [PYTHON, "-m", "functions.worker", "--name", name]
    process = Process(log_name or name, args, env=env, log_dir=log_dir)
    client = redis.Redis.from_url(env["REDIS_URL"])

    def registered() -> bool:
        if not process.alive():
            raise process.exited()
        return any(w.name == name for w in Worker.all(connection=client))

    try:
        wait_until(registered, 30, message=f"{name} listening")
    except BaseException:  # a failed or interrupted start leaves nothing running
        process.stop()
        raise
    finally:
        client.close()
    return process


class Workers:
    """The inbound workers of a stack, all started with the same environment."""

    def __init__(self, env, log_dir: Path):
        self._env = env
        self.log_dir = log_dir
        self.processes: dict[str, Process] = {}

    def start(self, count: int = 1, log_name: str | None = None) -> Workers:
        """Start `count` more workers and wait until each listens."""
        for _ in range(count):
            name = f"inbound-worker-{len(self.processes) + 1}-{uuid.uuid4().hex[:4]}"
            self.processes[name] = start_worker(self._env(), self.log_dir, name, log_name)
        return self

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
