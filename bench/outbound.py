"""The outbound suite: send latency at a fixed rate, idle Chrome memory, restore time, lost/dup.

One real stack (API under gunicorn, one session host, Chromium, simulator, Redis, PostgreSQL).
Latency is measured from just before `POST /agents/{id}/messages` to the simulator's own
receive stamp (same machine, same wall clock). The per-agent rate limit is raised for the run
so the limiter does not shape the measured rate.
"""

from __future__ import annotations

import re
import statistics
import sys
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from bench.registry import BenchContext, latency_summary, suite
from devstack.stack import Stack

SENDS = 2000
AGENTS = 5
RATE_PER_S = 50.0
RESTORE_AGENTS = 10
PEER = "6289900012345"
API_SETTINGS = {
    "rate_limit_per_minute": 100000,
    "rate_limit_burst": 100000,
    "rate_limit_max_waiting": 100000,
    "send_wait_seconds": 25,
}


def _phone(i: int) -> str:
    return f"6281777{i:05d}"


def _agent(i: int) -> str:
    return f"bench-agent-{i}"


def _key(i: int) -> str:
    return f"bench-key-{i}"


def send_latency(stack: Stack, sends: int = SENDS, agents: int = AGENTS, rate: float = RATE_PER_S):
    """Send `sends` texts round-robin over `agents` at `rate` per second; return results."""
    run = uuid.uuid4().hex[:8]
    started_at: dict[str, float] = {}
    errors: list[str] = []
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=64)
    session.mount("http://", adapter)

    def send(n: int) -> None:
        i = n % agents
        text = f"bench {run} {n}"
        started_at[text] = time.time()
        response = session.post(
            f"{stack.api_url}/agents/{_agent(i)}/messages",
            headers={"Authorization": f"Bearer {_key(i)}"},
            json={"to": PEER, "message": text},
            timeout=60,
        )
        if response.status_code != 200:
            errors.append(f"{response.status_code} {response.text[:200]}")

    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=48) as pool:
        for n in range(sends):
            delay = t0 + n / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)  # pacing the load generator, not synchronising
            pool.submit(send, n)
    duration = time.monotonic() - t0

    pattern = re.compile(rf"^bench {run} (\d+)$")
    received: Counter[str] = Counter()
    latencies: list[float] = []
    for i in range(agents):
        for item in stack.sent(_phone(i)):
            text = item.get("text") or ""
            if pattern.match(text):
                received[text] += 1
                if received[text] == 1:
                    latencies.append((item["at"] - started_at[text]) * 1000)
    lost = sum(1 for text in started_at if text not in received)
    duplicates = sum(count - 1 for count in received.values() if count > 1)
    return latency_summary(latencies, duration), lost, duplicates, errors


def session_pss_mb(stack: Stack, agents: list[str], host_id: str = "host-a") -> float:
    """Return the median PSS (MB) of idle sessions' whole Chrome trees, from the host's /metrics."""
    text = requests.get(stack.metrics_url(host_id), timeout=10).text
    values = []
    for agent_id in agents:
        match = re.search(rf'wagw_host_chrome_pss_bytes{{agent_id="{agent_id}"}} ([0-9.e+]+)', text)
        if match:
            values.append(float(match.group(1)) / 1024 / 1024)
    return round(statistics.median(values), 1) if values else 0.0


def restore_seconds(stack: Stack, agents: list[str], host_id: str = "host-a") -> float:
    """Restart the host and return the seconds until every agent is ready again (no QR)."""
    assert stack.host(host_id).stop(timeout=90) == 0
    started = time.monotonic()
    stack.start_host(host_id)
    for agent_id in agents:
        stack.wait_state(agent_id, lambda s: s["isReady"], 120)
    return round(time.monotonic() - started, 2)


@suite("outbound")
def outbound(ctx: BenchContext) -> dict[str, Any]:
    """Measure sends, memory and restore on one host."""
    stack = Stack(ctx.run_dir, ctx.database_url, api=API_SETTINGS)
    try:
        stack.start(hosts=("host-a",))
        for i in range(AGENTS):
            stack.link(_agent(i), _phone(i), _key(i))
        latency, lost, duplicates, errors = send_latency(stack)
        print(f"sends: {latency}, lost {lost}, duplicated {duplicates}, errors {errors[:3]}", file=sys.stderr)
        pss = [session_pss_mb(stack, [_agent(i)]) for i in range(AGENTS)]
        for i in range(AGENTS, RESTORE_AGENTS):
            stack.link(_agent(i), _phone(i), _key(i))
        restore = restore_seconds(stack, [_agent(i) for i in range(RESTORE_AGENTS)])
    finally:
        stack.stop()
    return {
        "send_latency_ms": latency,
        "send_errors": len(errors),
        "session_pss_mb": round(statistics.median(pss), 1),
        "restore_seconds_10": restore,
        "lost_sends": lost,
        "duplicate_sends": duplicates,
    }
