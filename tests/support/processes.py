"""Start real processes for tests and stop exactly those, by pid."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import redis
import requests

from tests.support.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


def free_port() -> int:
    """Return a TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Process:
    """A child process with its output in a log file, stopped by its own pid."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_dir: Path):
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.popen = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    @property
    def pid(self) -> int:
        """Return the child's pid."""
        return self.popen.pid

    def alive(self) -> bool:
        """Tell whether the child is still running."""
        return self.popen.poll() is None

    def log(self) -> str:
        """Return what the child printed so far."""
        return self.log_path.read_text(errors="replace")

    def signal(self, sig: int) -> None:
        """Send a signal to the child only."""
        if self.alive():
            os.kill(self.pid, sig)

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM the child, SIGKILL its whole process group if it lingers; return its exit code."""
        if self.alive():
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.pid, signal.SIGKILL)
                self.popen.wait(5)
        else:
            # Children of a dead leader (e.g. Chrome) may survive it: end the group.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)
        self._log.close()
        return self.popen.returncode

    def kill(self) -> None:
        """SIGKILL the child at once (a crash), leaving nothing running in its group."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        self.popen.wait(10)


def wait_http_ok(url: str, timeout: float = 30.0, process: Process | None = None) -> None:
    """Wait until GET `url` answers 2xx (fail early if `process` died)."""

    def ready() -> bool:
        if process is not None and not process.alive():
            raise AssertionError(f"{process.name} exited:\n{process.log()[-3000:]}")
        try:
            return requests.get(url, timeout=1).ok
        except requests.RequestException:
            return False

    wait_until(ready, timeout, interval=0.05, message=f"GET {url}")


def start_redis(log_dir: Path, name: str = "redis", port: int | None = None) -> tuple[Process, str]:
    """Start a private redis-server (on `port`, or a free one) and return it with its URL."""
    port = port or free_port()
    process = Process(
        name,
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        env=dict(os.environ),
        log_dir=log_dir,
    )
    url = f"redis://127.0.0.1:{port}/0"
    wait_until(lambda: ping(url), 10, message="redis-server answers")
    return process, url


def ping(url: str) -> bool:
    """Tell whether the Redis at `url` answers (closing the connection either way)."""
    client = redis.Redis.from_url(url)
    try:
        return bool(client.ping())
    finally:
        client.close()
