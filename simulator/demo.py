"""`make demo`: the whole inbound loop offline, on the simulator, then stop.

Starts a private Redis, the API (gunicorn, SQLite), one inbound worker, the WhatsApp Web
simulator, the demo AI backend and a session host; creates a session, prints its QR in the
terminal, scans it in the simulator, sends a message from a simulated user and prints the
AI's reply as that user received it. Every process it started is stopped by pid at the end.
Exit status 0 on success, 1 with the failing step and the relevant log tail otherwise.
`--keep` leaves the stack running (URLs printed) until Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import qrcode
import redis
import requests

from contract.hosts import HostRegistry

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
AGENT_ID = "demo-agent"
BOT_PHONE = "6280000000001"
USER_PHONE = "6281234567890"
USER_TEXT = "Halo! Ada promo hari ini?"
EVENTS_SECRET = "demo-events-secret"  # noqa: S105 - a throwaway secret for a local demo


class DemoFailed(Exception):
    """A step of the demo did not succeed."""


class Child:
    """A process the demo started, logged to a file and stopped by its own pid."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_dir: Path):
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        with open(self.log_path, "ab") as log:
            self.popen = subprocess.Popen(
                args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def alive(self) -> bool:
        """Tell whether it still runs."""
        return self.popen.poll() is None

    def tail(self, lines: int = 25) -> str:
        """Return the end of its log."""
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM it, then SIGKILL its process group if it lingers (Chrome children included)."""
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(5)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)


def free_port() -> int:
    """Return a TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(what: str, check: Callable[[], Any], timeout: float, child: Child | None = None) -> Any:
    """Return check()'s first truthy value, or raise DemoFailed naming the step."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if child is not None and not child.alive():
            raise DemoFailed(f"{child.name} exited while waiting for {what}:\n{child.tail()}")
        try:
            value = check()
        except (requests.RequestException, redis.RedisError, ValueError, KeyError) as exc:
            last = exc
        else:
            if value:
                return value
        time.sleep(0.1)
    raise DemoFailed(f"timed out after {timeout:.0f}s waiting for {what}" + (f" ({last})" if last else ""))


def http_ok(url: str) -> bool:
    """Tell whether GET url answers 2xx."""
    return requests.get(url, timeout=2).ok


class Stack:
    """The processes of one demo run."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.logs = workdir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.children: list[Child] = []
        ports = {name: free_port() for name in ("redis", "api", "simulator", "ai")}
        self.redis_url = f"redis://127.0.0.1:{ports['redis']}/0"
        self.api = f"http://127.0.0.1:{ports['api']}"
        self.simulator = f"http://127.0.0.1:{ports['simulator']}"
        self.ai = f"http://127.0.0.1:{ports['ai']}"
        self.ports = ports
        self.env = {
            **os.environ,
            "APP_ENV": "development",
            "PORT": str(ports["api"]),
            "DATABASE_URL": f"sqlite:///{workdir / 'gateway.db'}",
            "REDIS_URL": self.redis_url,
            "AI_BACKEND_URL": self.ai,
            "EVENTS_SECRET": EVENTS_SECRET,
            "EVENTS_URL": self.api,
            "WA_WEB_URL": f"{self.simulator}/",
            "WA_AUTH_DIR": str(workdir / "auth"),
            "TEMP_DIR": str(workdir / "tmp"),
            "HOST_ID": "demo-host",
            "METRICS_PORT": "0",
            "LOG_LEVEL": "INFO",
            "WEB_CONCURRENCY": "2",
        }
        self.env.pop("PROMETHEUS_MULTIPROC_DIR", None)

    def start(self, name: str, args: list[str]) -> Child:
        """Start one process of the stack."""
        child = Child(name, args, self.env, self.logs)
        self.children.append(child)
        return child

    def up(self) -> None:
        """Start every process and wait until each answers."""
        if shutil.which("redis-server") is None:
            raise DemoFailed("redis-server is not installed (run `make deps`)")
        port = str(self.ports["redis"])
        redis_server = self.start(
            "redis",
            ["redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        )
        wait_for("Redis", lambda: redis.Redis.from_url(self.redis_url).ping(), 10, redis_server)
        migrate = subprocess.run(
            [PYTHON, "-m", "functions.migrate"], cwd=ROOT, env=self.env, capture_output=True, text=True
        )
        if migrate.returncode != 0:
            raise DemoFailed(f"database migration failed:\n{migrate.stdout}{migrate.stderr}")
        simulator = self.start(
            "simulator", [PYTHON, "-m", "simulator", "--port", str(self.ports["simulator"])]
        )
        ai = self.start("ai-backend", [PYTHON, "-m", "simulator.ai_backend", "--port", str(self.ports["ai"])])
        api = self.start(
            "api",
            [
                str(Path(PYTHON).with_name("gunicorn")),
                "-c",
                "functions/gunicorn_conf.py",
                "functions.app:create_app()",
            ],
        )
        worker = self.start("worker", [PYTHON, "-m", "functions.worker"])
        wait_for("the simulator", lambda: http_ok(f"{self.simulator}/control/health"), 20, simulator)
        wait_for("the demo AI backend", lambda: http_ok(f"{self.ai}/control/health"), 20, ai)
        wait_for("the API", lambda: http_ok(f"{self.api}/health"), 30, api)
        host = self.start("session-host", [PYTHON, "-m", "session_host"])
        wait_for("the session host to register", lambda: self._host_registered(), 30, host)
        if not worker.alive():
            raise DemoFailed(f"the inbound worker exited:\n{worker.tail()}")

    def _host_registered(self) -> bool:
        client = redis.Redis.from_url(self.redis_url, decode_responses=True)
        try:
            return any(h.host_id == "demo-host" for h in HostRegistry(client).live_hosts(time.time()))
        finally:
            client.close()

    def down(self) -> None:
        """Stop every process, newest first."""
        for child in reversed(self.children):
            child.stop()

    def tails(self) -> str:
        """Return the log tails of every process, for a failure report."""
        return "\n".join(f"--- {c.name} ({c.log_path}) ---\n{c.tail(15)}" for c in self.children)


def print_qr(data: str) -> None:
    """Draw a QR code in the terminal."""
    code = qrcode.QRCode(border=1)
    code.add_data(data)
    code.make(fit=True)
    code.print_ascii(out=sys.stdout, invert=True)


def run_loop(stack: Stack, say: Callable[[str], None]) -> str:
    """Create a session, scan its QR, send a message as a user; return the reply the user got."""
    say("1. Creating session for agent 'demo-agent' (POST /sessions)")
    created = requests.post(
        f"{stack.api}/sessions",
        json={"userId": "demo-user", "agentId": AGENT_ID, "agentName": "Demo Bot", "apikey": "demo-api-key"},
        timeout=90,
    )
    if created.status_code >= 300:
        raise DemoFailed(f"POST /sessions answered {created.status_code}: {created.text[:500]}")
    qr = (created.json().get("liveState") or {}).get("qr")
    if not qr:
        qr = wait_for("a QR code", lambda: _live(stack).get("qr"), 60)
    say("2. Scan this QR with WhatsApp (the simulator's phone does it below):")
    print_qr(qr)
    scanned = requests.post(
        f"{stack.simulator}/control/scan",
        json={"qr": qr, "phone": BOT_PHONE, "pushname": "Demo Bot"},
        timeout=10,
    )
    if not scanned.ok:
        raise DemoFailed(f"the simulator refused the scan: {scanned.status_code} {scanned.text[:300]}")
    wait_for("the session to be ready", lambda: _live(stack).get("isReady"), 60)
    say(f"3. Session connected as +{BOT_PHONE}")
    say(f'4. Simulated user +{USER_PHONE} writes: "{USER_TEXT}"')
    sent = requests.post(
        f"{stack.simulator}/control/accounts/{BOT_PHONE}/inbound",
        json={"from": USER_PHONE, "body": USER_TEXT, "notifyName": "Demo User"},
        timeout=10,
    )
    if not sent.ok:
        raise DemoFailed(f"the simulator refused the inbound message: {sent.status_code} {sent.text[:300]}")
    reply = wait_for("the AI's reply to reach the user", lambda: _reply_to_user(stack), 60)
    say(f'5. The user received the AI\'s reply: "{reply}"')
    return reply


def _live(stack: Stack) -> dict[str, Any]:
    response = requests.get(f"{stack.api}/sessions/{AGENT_ID}", timeout=5)
    live = (response.json().get("liveState") or {}) if response.ok else {}
    if live.get("sessionState") in ("failed", "auth_failed"):
        raise DemoFailed(f"the session went {live['sessionState']}: {live.get('reason')}")
    return live


def _reply_to_user(stack: Stack) -> str | None:
    response = requests.get(f"{stack.simulator}/control/accounts/{BOT_PHONE}/sent", timeout=5)
    response.raise_for_status()
    for item in response.json():
        if str(item.get("to", "")).startswith(USER_PHONE) and item.get("text"):
            return item["text"]
    return None


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Run the demo; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m simulator.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="leave the stack running until Ctrl-C")
    parser.add_argument("--workdir", default=None, help="where data and logs go (default: a temp dir)")
    args = parser.parse_args(argv)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="wagw-demo-")).resolve()
    stack = Stack(workdir)

    def say(line: str) -> None:
        print(line, flush=True)

    # Explicitly: a demo started in the background inherits SIGINT ignored.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        say(f"Starting the stack (logs in {stack.logs})")
        stack.up()
        run_loop(stack, say)
        if args.keep:
            say(f"API:        {stack.api}  (GET /sessions/{AGENT_ID}, /metrics)")
            say(f"Simulator:  {stack.simulator}/  (control API: /control/*)")
            say(f"AI backend: {stack.ai}  (requests: /control/requests)")
            say(f"Redis:      {stack.redis_url}")
            say("The stack stays up; press Ctrl-C to stop it.")
            with contextlib.suppress(KeyboardInterrupt):
                signal.pause()
        say("Demo finished: the AI's reply reached the user.")
        return 0
    except DemoFailed as exc:
        print(f"demo failed: {exc}\n{stack.tails()}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print("demo interrupted", file=sys.stderr, flush=True)
        return 130
    finally:
        stack.down()


if __name__ == "__main__":
    raise SystemExit(main())
