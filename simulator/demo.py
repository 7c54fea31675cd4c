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
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import qrcode
import requests

from devstack.database import sqlite_database
from devstack.process import WaitTimeout, wait_until
from devstack.stack import Stack

AGENT_ID = "demo-agent"
BOT_PHONE = "6280000000001"
USER_PHONE = "6281234567890"
USER_TEXT = "Halo! Ada promo hari ini?"
HOST_ID = "demo-host"
EVENTS_SECRET = "demo-events-secret"  # noqa: S105 - a throwaway secret for a local demo


class DemoFailed(WaitTimeout):
    """A step of the demo did not succeed."""


def wait_for(what: str, check: Callable[[], Any], timeout: float) -> Any:
    """Return check()'s first truthy value, or raise DemoFailed naming the step."""
    try:
        return wait_until(check, timeout, interval=0.1, message=what)
    except DemoFailed:
        raise
    except WaitTimeout as exc:
        raise DemoFailed(f"timed out waiting for {what}: {exc}") from None


def up(workdir: Path) -> Stack:
    """Start Redis, the simulator, the demo AI, the API, one worker and a host (SQLite)."""
    if shutil.which("redis-server") is None:
        raise DemoFailed("redis-server is not installed (run `make deps`)")
    try:
        database_url = sqlite_database(workdir / "gateway.db")
    except Exception as exc:
        raise DemoFailed(f"database migration failed: {exc}") from exc
    api = {"app_env": "development", "events_secret": EVENTS_SECRET, "log_level": "INFO"}
    return Stack(workdir, database_url, api=api, host={"events_secret": EVENTS_SECRET})


def tails(stack: Stack) -> str:
    """Return the log tails of every process, for a failure report."""
    return "\n".join(f"--- {p.name} ({p.log_path}) ---\n{p.tail(15)}" for p in stack.running())


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
        f"{stack.api_url}/sessions",
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
        f"{stack.sim_url}/control/scan",
        json={"qr": qr, "phone": BOT_PHONE, "pushname": "Demo Bot"},
        timeout=10,
    )
    if not scanned.ok:
        raise DemoFailed(f"the simulator refused the scan: {scanned.status_code} {scanned.text[:300]}")
    wait_for("the session to be ready", lambda: _live(stack).get("isReady"), 60)
    say(f"3. Session connected as +{BOT_PHONE}")
    say(f'4. Simulated user +{USER_PHONE} writes: "{USER_TEXT}"')
    sent = requests.post(
        f"{stack.sim_url}/control/accounts/{BOT_PHONE}/inbound",
        json={"from": USER_PHONE, "body": USER_TEXT, "notifyName": "Demo User"},
        timeout=10,
    )
    if not sent.ok:
        raise DemoFailed(f"the simulator refused the inbound message: {sent.status_code} {sent.text[:300]}")
    reply = wait_for("the AI's reply to reach the user", lambda: _reply_to_user(stack), 60)
    say(f'5. The user received the AI\'s reply: "{reply}"')
    return reply


def _live(stack: Stack) -> dict[str, Any]:
    response = requests.get(f"{stack.api_url}/sessions/{AGENT_ID}", timeout=5)
    live = (response.json().get("liveState") or {}) if response.ok else {}
    if live.get("sessionState") in ("failed", "auth_failed"):
        raise DemoFailed(f"the session went {live['sessionState']}: {live.get('reason')}")
    return live


def _reply_to_user(stack: Stack) -> str | None:
    response = requests.get(f"{stack.sim_url}/control/accounts/{BOT_PHONE}/sent", timeout=5)
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
    stack: Stack | None = None

    def say(line: str) -> None:
        print(line, flush=True)

    # Explicitly: a demo started in the background inherits SIGINT ignored.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        say(f"Starting the stack (logs in {workdir})")
        stack = up(workdir)
        stack.start(hosts=(HOST_ID,), ai=True, workers=1)
        run_loop(stack, say)
        if args.keep:
            say(f"API:        {stack.api_url}  (GET /sessions/{AGENT_ID}, /metrics)")
            say(f"Simulator:  {stack.sim_url}/  (control API: /control/*)")
            say(f"AI backend: {stack.ai.url if stack.ai else ''}  (requests: /control/requests)")
            say(f"Redis:      {stack.redis_url}")
            say("The stack stays up; press Ctrl-C to stop it.")
            with contextlib.suppress(KeyboardInterrupt):
                signal.pause()
        say("Demo finished: the AI's reply reached the user.")
        return 0
    except WaitTimeout as exc:
        report = tails(stack) if stack else ""
        print(f"demo failed: {exc}\n{report}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print("demo interrupted", file=sys.stderr, flush=True)
        return 130
    finally:
        if stack is not None:
            stack.stop()


if __name__ == "__main__":
    raise SystemExit(main())
