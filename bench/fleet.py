"""Two suites about many sessions and lost hosts.

- `sessions_50`: 50 linked sessions on one host with the default browser: total PSS of their
  Chrome trees, and seconds until all 50 are ready again after a host restart (no QR).
- `takeover`: two hosts, 4 agents, 400 sends at 40/s; 4 s in, one host is SIGKILLed with its
  Chromes. Seconds until its agents are ready on the other host, and how many sends were
  answered anything but 200/202 (refused), never arrived (lost) or arrived twice (duplicated).
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from bench import memory
from bench.registry import BenchContext, suite
from devstack.process import wait_until
from devstack.stack import Stack

SESSIONS = 50
TAKEOVER_AGENTS = 4
TAKEOVER_SENDS = 400
TAKEOVER_RATE = 40.0
KILL_AFTER_SECONDS = 4.0
PEER = "6289900077777"
API_SETTINGS = {
    "rate_limit_per_minute": 100000,
    "rate_limit_burst": 100000,
    "rate_limit_max_waiting": 100000,
    "send_wait_seconds": 25,
}


def _agent(prefix: str, i: int) -> tuple[str, str, str]:
    return f"{prefix}-{i}", f"6281888{i:05d}", f"{prefix}-key-{i}"


@suite("sessions_50")
def sessions_50(ctx: BenchContext) -> dict[str, Any]:
    """Link 50 sessions on one host; total PSS, and the restore time after a host restart."""
    stack = Stack(ctx.run_dir, ctx.database_url, api=API_SETTINGS, host={"max_sessions": SESSIONS + 10})
    agents = [_agent("fleet", i) for i in range(SESSIONS)]
    try:
        stack.start(hosts=("host-a",))
        for agent_id, phone, key in agents:
            stack.link(agent_id, phone, key)
        total = sum(memory.host_pss_mb(stack, [agent_id for agent_id, _, _ in agents]))
        assert stack.host("host-a").stop(timeout=180) == 0
        started = time.monotonic()
        stack.start_host("host-a")
        for agent_id, _, _ in agents:
            stack.wait_state(agent_id, lambda s: s["isReady"], 300)
        restore = time.monotonic() - started
    finally:
        stack.stop()
    return {"pss_total_mb_50": round(total, 1), "restore_seconds_50": round(restore, 2)}


def _login_on_disk(stack: Stack, agent_id: str, phone: str) -> bool:
    device_id = stack.sim("GET", f"/control/accounts/{phone}")["deviceId"].encode()
    storage = stack.auth_dir / f"session-{agent_id}" / "Default" / "Local Storage" / "leveldb"
    return any(device_id in f.read_bytes() for f in storage.glob("*") if f.is_file())


def _owner(stack: Stack, agent_id: str) -> str | None:
    live = stack.session(agent_id)["liveState"]
    return live["host"] if live["isReady"] else None


@suite("takeover")
def takeover(ctx: BenchContext) -> dict[str, Any]:
    """Kill a host under load; time its agents' takeover and count refused, lost, doubled sends."""
    stack = Stack(ctx.run_dir, ctx.database_url, api=API_SETTINGS)
    agents = [_agent("takeover", i) for i in range(TAKEOVER_AGENTS)]
    run = uuid.uuid4().hex[:6]
    answers: dict[str, int] = {}
    lock = threading.Lock()
    session = requests.Session()
    session.mount("http://", requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=64))
    try:
        stack.start(hosts=("host-a", "host-b"))
        for agent_id, phone, key in agents:
            stack.link(agent_id, phone, key)
        victims = [agent_id for agent_id, _, _ in agents if _owner(stack, agent_id) == "host-a"]
        for agent_id, phone, _ in agents:
            # In steady state the login is on disk; a Chrome killed seconds after its first
            # page load may not have written it yet (then a QR would be needed, not a takeover).
            wait_until(lambda a=agent_id, p=phone: _login_on_disk(stack, a, p), 60, interval=0.2)

        def send(n: int) -> None:
            agent_id, _, key = agents[n % len(agents)]
            text = f"takeover {run} {n}"
            try:
                status = session.post(
                    f"{stack.api_url}/agents/{agent_id}/messages",
                    headers={"Authorization": f"Bearer {key}"},
                    json={"to": PEER, "message": text},
                    timeout=60,
                ).status_code
            except requests.RequestException:
                status = 0
            with lock:
                answers[text] = status

        killed_at = 0.0
        t0 = time.monotonic()
        with ThreadPoolExecutor(max_workers=48) as pool:
            for n in range(TAKEOVER_SENDS):
                now = time.monotonic()
                if not killed_at and now - t0 >= KILL_AFTER_SECONDS:
                    stack.host("host-a").kill()  # the host and its Chromes, as a lost machine
                    killed_at = time.monotonic()
                delay = t0 + n / TAKEOVER_RATE - time.monotonic()
                if delay > 0:
                    time.sleep(delay)  # pacing the load generator, not synchronising
                pool.submit(send, n)
            wait_until(lambda: all(_owner(stack, a) == "host-b" for a in victims), 120, interval=0.2)
            taken_over = time.monotonic() - killed_at
        accepted = {text for text, status in answers.items() if status in (200, 202)}

        def arrived() -> Counter[str]:
            found: Counter[str] = Counter()
            for _, phone, _ in agents:
                found.update(m["text"] for m in stack.sent(phone) if m.get("text") in answers)
            return found

        with contextlib.suppress(AssertionError):  # what has not arrived by then counts as lost
            wait_until(lambda: accepted <= set(arrived()), 120, interval=0.5)
        received = arrived()
    finally:
        stack.stop()
    return {
        "takeover_seconds": round(taken_over, 2),
        "takeover_refused_sends": TAKEOVER_SENDS - len(accepted),
        "takeover_lost_sends": sum(1 for text in accepted if text not in received),
        "takeover_duplicate_sends": sum(count - 1 for count in received.values() if count > 1),
    }
