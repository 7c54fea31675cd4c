"""Child processes logged to a file and stopped by their own pid; waiting on conditions."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import requests

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
T = TypeVar("T")


class WaitTimeout(AssertionError):
    """A condition was not met in time (an AssertionError, so pytest reports it as a failure)."""


def wait_until(
    condition: Callable[[], T], timeout: float = 10.0, interval: float = 0.02, message: str = ""
) -> T:
    """Return the first truthy value of `condition()`, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = condition()
        except AssertionError:
            raise
        except Exception as exc:  # the condition may fail until the thing is up
            last_error = exc
        else:
            if value:
                return value
        time.sleep(interval)
    detail = f" (last error: {last_error!r})" if last_error else ""
    raise WaitTimeout(f"condition not met within {timeout}s: {message or condition}{detail}")


def free_port() -> int:
    """Return a TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Process:
    """A child process with its output in a log file, stopped by its own pid."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_dir: Path):
        self.name = name
        log_dir.mkdir(parents=True, exist_ok=True)
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

    def tail(self, lines: int = 25) -> str:
        """Return the end of the child's log."""
        return "\n".join(self.log().splitlines()[-lines:])

    def exited(self) -> WaitTimeout:
        """Return the failure to raise when the child died while it was waited on."""
        return WaitTimeout(f"{self.name} exited:\n{self.tail(40)}")

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
            with contextlib.suppress(ProcessLookupError, PermissionError):
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
            raise process.exited()
        try:
            return requests.get(url, timeout=1).ok
        except requests.RequestException:
            return False

    wait_until(ready, timeout, interval=0.05, message=f"GET {url}")


def wait_pid_gone(pids: list[int], timeout: float = 20) -> None:
    """Wait until none of `pids` runs (zombies count as gone)."""

    def gone() -> bool:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError, FileNotFoundError):
                os.kill(pid, 0)
                stat = Path(f"/proc/{pid}/stat").read_text()
                if stat.split(")")[-1].split()[0] != "Z":
                    return False
        return True

    wait_until(gone, timeout, interval=0.1, message="processes ended")
